package main

import (
	"bytes"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestCloseClosesLDAPConnections signs alice in with LDAP, closes the
// portal while its directory keeps running, and checks that no LDAP
// connection of the portal is left open (go-ldap runs a reader goroutine
// per connection): Close closes the LDAP provider's pools, not only the
// fake world around them.
func TestCloseClosesLDAPConnections(t *testing.T) {
	p, err := start(t.Context(), options{addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	stopDirectory := p.world.ldap.close
	p.world.ldap.close = func() {} // kept running past p.Close
	defer stopDirectory()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	form := url.Values{"username": {"alice"}, "password": {ldapAlicePassword}, "redirectUrl": {"/"}}
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/api/auth/ldap/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.URL)
	resp, err := c.Do(req)
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	resp.Body.Close()
	c.CloseIdleConnections()
	if resp.StatusCode != http.StatusOK || ldapReaders() == 0 {
		p.Close()
		t.Fatalf("LDAP sign-in: %d, %d LDAP connections open; want 200 and some", resp.StatusCode, ldapReaders())
	}
	p.Close()
	deadline := time.Now().Add(time.Second)
	for ldapReaders() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := ldapReaders(); n != 0 {
		t.Errorf("%d LDAP connections still open after Close", n)
	}
}

// ldapReaders counts go-ldap's connection readers: one per open
// connection.
func ldapReaders() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("go-ldap/ldap/v3.(*Conn).reader("))
		}
		buf = make([]byte, 2*len(buf))
	}
}
