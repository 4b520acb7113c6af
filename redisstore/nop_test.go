package redisstore

import "github.com/redis/go-redis/v9"

// nopClient is a client for an address nobody listens on, for tests that
// never reach Redis.
func nopClient() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DisableIdentity: true})
}
