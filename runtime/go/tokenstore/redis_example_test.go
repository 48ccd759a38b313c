package tokenstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokenstore"
)

// This file shows the product brief's "Custom Token Storage" example, a
// Redis-backed token storage, written against tokenstore.Store. A real
// program would pass a go-redis client; the test uses an in-memory fake
// with the same method shapes.

// RedisClient is the part of a Redis client that RedisTokenStore uses, in
// the shape of github.com/redis/go-redis (with its *Cmd results unwrapped).
type RedisClient interface {
	Get(ctx context.Context, key string) (string, error)
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	Del(ctx context.Context, keys ...string) error
}

// errRedisNil is what RedisClient.Get returns for a missing key, like
// go-redis's redis.Nil.
var errRedisNil = errors.New("redis: nil")

// RedisTokenStore keeps each client's token under "auth_token:<key>", with
// a Redis expiry matching the token's. It stores the whole token,
// refresh token included, not just the access token.
type RedisTokenStore struct {
	Redis RedisClient
}

var _ tokenstore.Store = RedisTokenStore{}

func (s RedisTokenStore) redisKey(key string) string { return "auth_token:" + key }

// Get returns the stored token, or nil when Redis has none.
func (s RedisTokenStore) Get(ctx context.Context, key string) (*token.Token, error) {
	data, err := s.Redis.Get(ctx, s.redisKey(key))
	if errors.Is(err, errRedisNil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return tokenstore.DecodeToken([]byte(data))
}

// Store saves the token until it expires. A token that carries a refresh
// token is kept without expiry, since the refresh token outlives it.
func (s RedisTokenStore) Store(ctx context.Context, key string, tok *token.Token) error {
	data, err := tokenstore.EncodeToken(tok)
	if err != nil {
		return err
	}
	var ttl time.Duration
	if !tok.ExpiresAt.IsZero() && tok.RefreshToken.IsZero() {
		if ttl = time.Until(tok.ExpiresAt); ttl <= 0 {
			return s.Redis.Del(ctx, s.redisKey(key))
		}
	}
	return s.Redis.Set(ctx, s.redisKey(key), string(data), ttl)
}

// Delete removes the stored token.
func (s RedisTokenStore) Delete(ctx context.Context, key string) error {
	return s.Redis.Del(ctx, s.redisKey(key))
}

// fakeRedis is an in-memory RedisClient.
type fakeRedis struct {
	mu      sync.Mutex
	values  map[string]string
	expires map[string]time.Time
}

func newFakeRedis() *fakeRedis {
	return &fakeRedis{values: map[string]string{}, expires: map[string]time.Time{}}
}

func (r *fakeRedis) Get(ctx context.Context, key string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if at, ok := r.expires[key]; ok && !time.Now().Before(at) {
		delete(r.values, key)
		delete(r.expires, key)
	}
	v, ok := r.values[key]
	if !ok {
		return "", errRedisNil
	}
	return v, nil
}

func (r *fakeRedis) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.values[key] = value
	delete(r.expires, key)
	if ttl > 0 {
		r.expires[key] = time.Now().Add(ttl)
	}
	return nil
}

func (r *fakeRedis) Del(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		delete(r.values, k)
		delete(r.expires, k)
	}
	return nil
}

func TestRedisExample(t *testing.T) {
	redis := newFakeRedis()
	store := RedisTokenStore{Redis: redis}
	roundTrip(t, store)

	ctx := context.Background()
	if err := store.Store(ctx, "trading-bot", sample("a")); err != nil {
		t.Fatal(err)
	}
	if _, ok := redis.values["auth_token:trading-bot"]; !ok {
		t.Errorf("token not kept under auth_token:<key>; keys: %v", redis.values)
	}

	// A token without a refresh token expires from Redis with itself.
	short := &token.Token{AccessToken: "short", TokenType: "Bearer", ExpiresAt: time.Now().Add(time.Hour)}
	if err := store.Store(ctx, "short", short); err != nil {
		t.Fatal(err)
	}
	if at := redis.expires["auth_token:short"]; at.Before(time.Now().Add(59*time.Minute)) || at.After(short.ExpiresAt.Add(time.Second)) {
		t.Errorf("Redis expiry = %v, want the token's expiry %v", at, short.ExpiresAt)
	}

	// Corrupt data in Redis is an error, not an empty token.
	redis.values["auth_token:broken"] = `{"version":1,"access_tok`
	if tok, err := store.Get(ctx, "broken"); tok != nil || !errors.Is(err, tokenstore.ErrCorrupt) {
		t.Errorf("Get of corrupt data = %v, %v; want an ErrCorrupt error", tok, err)
	}
}
