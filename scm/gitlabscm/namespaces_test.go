package gitlabscm

import (
	"fmt"
	"testing"
	"time"
)

func TestNamespaceIDsBoundedAndAged(t *testing.T) {
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	c := namespaceIDs{ttl: time.Minute}
	for i := range maxNamespaceIDs + 10 {
		c.put(fmt.Sprintf("g%d", i), int64(i), now)
		if len(c.m) > maxNamespaceIDs {
			t.Fatalf("after %d puts the memory holds %d ids; want at most %d", i+1, len(c.m), maxNamespaceIDs)
		}
	}
	last := fmt.Sprintf("g%d", maxNamespaceIDs+9)
	if id, ok := c.get(last, now.Add(59*time.Second)); !ok || id != maxNamespaceIDs+9 {
		t.Errorf("get(%s) = %d, %v; want the id just put", last, id, ok)
	}
	if _, ok := c.get(last, now.Add(time.Minute)); ok {
		t.Errorf("get(%s) after the TTL found the id", last)
	}
	if _, ok := c.get(last, now.Add(-time.Second)); ok {
		t.Errorf("get(%s) with the clock set back found the id", last)
	}
	// Expired ids make room before live ones are dropped.
	later := now.Add(2 * time.Minute)
	c.put("fresh", 1, later)
	if len(c.m) != 1 {
		t.Errorf("a put when every id has expired left %d ids; want only the new one", len(c.m))
	}
	c.forget("fresh")
	if _, ok := c.get("fresh", later); ok {
		t.Error("get after forget found the id")
	}
	off := namespaceIDs{ttl: -1}
	off.put("g", 1, now)
	if _, ok := off.get("g", now); ok {
		t.Error("a memory with a negative TTL remembered an id")
	}
}
