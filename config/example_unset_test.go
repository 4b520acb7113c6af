package config_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/config"
)

// ExampleConfig_UnsetVariables names the variable behind an empty
// required key of a section, as auth and redisstore do in their errors.
func ExampleConfig_UnsetVariables() {
	doc := []byte(`
backend:
  cache:
    store: redis
    connection: redis://:${REDIS_PASSWORD}@redis.internal:6379/0
`)
	env := map[string]string{} // REDIS_PASSWORD is not set
	cfg, err := config.LoadBytes(context.Background(), &config.Options{Lookup: func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}}, doc)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.UnsetVariables("backend.cache.connection"))
	fmt.Println(cfg.SectionWarnings("backend.cache"))
	// Output:
	// [REDIS_PASSWORD]
	// [document 1: backend.cache.connection: environment variable "REDIS_PASSWORD" is not set; the value is left unset]
}
