package driver_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
)

// tracing is a driver that adds behaviour to another one: it shows what a
// driver is handed. A real adapter implements every method of
// driver.Driver itself (and the optional interfaces, such as
// driver.FileFinder, that its provider allows; a wrapper like this one
// hides the wrapped driver's).
type tracing struct {
	driver.Driver
}

func (d tracing) ReadFile(ctx context.Context, hc *http.Client, r *driver.ReadFileRequest) (*driver.File, error) {
	fmt.Printf("driver.ReadFile %s/%s ref=%q path=%q\n", r.Repo.Owner, r.Repo.Name, r.Ref, r.Path)
	return d.Driver.ReadFile(ctx, hc, r)
}

// A driver is registered by putting its Opener in scm.Options.Drivers for
// an integration kind. The client calls the Opener once per integration of
// that kind, routes each URL to its integration's driver, and hands the
// driver validated requests (owner, repository, ref and a clean path,
// parsed from the URL) and an *http.Client that attaches the credential.
// Here the driver is memscm's in-memory one, wrapped.
func Example() {
	w := memscm.New()
	if err := w.AddRepo("acme", "service", "main", memscm.Files(map[string]string{"catalog-info.yaml": "kind: Component\n"})); err != nil {
		log.Fatal(err)
	}
	inner := w.Opener(nil)
	open := func(in *integrations.Integration) (driver.Driver, error) {
		fmt.Println("open", in.Kind, in.Host)
		d, err := inner(in)
		if err != nil {
			return nil, err
		}
		return tracing{d}, nil
	}
	c, err := scm.NewClient(nil, nil, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: open},
	})
	if err != nil {
		log.Fatal(err)
	}
	f, err := c.ReadFile(context.Background(), "https://github.com/acme/service/blob/main/catalog-info.yaml", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(f.Content))
	// Output:
	// open github github.com
	// driver.ReadFile acme/service ref="main" path="catalog-info.yaml"
	// kind: Component
}
