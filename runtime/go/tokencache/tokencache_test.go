package tokencache_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokencache"
)

func TestZeroValue(t *testing.T) {
	var c tokencache.Cache
	if got := c.Load(); got != nil {
		t.Errorf("Load() on empty cache = %v, want nil", got)
	}
	if got := c.Peek(); got != nil {
		t.Errorf("Peek() on empty cache = %v, want nil", got)
	}
	c.Clear() // must not panic on an empty cache
}

func TestStoreLoadClear(t *testing.T) {
	var c tokencache.Cache
	tok := &token.Token{AccessToken: "a", TokenType: "Bearer", ExpiresAt: time.Now().Add(time.Hour)}
	c.Store(tok)
	if got := c.Load(); got != tok {
		t.Errorf("Load() = %v, want the stored token", got)
	}
	if got := c.Peek(); got != tok {
		t.Errorf("Peek() = %v, want the stored token", got)
	}
	c.Clear()
	if got := c.Load(); got != nil {
		t.Errorf("Load() after Clear = %v, want nil", got)
	}
	if got := c.Peek(); got != nil {
		t.Errorf("Peek() after Clear = %v, want nil", got)
	}
	c.Store(tok)
	c.Store(nil)
	if c.Peek() != nil {
		t.Error("Store(nil) did not clear the cache")
	}
}

func TestNoExpiryStaysValid(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c tokencache.Cache
		tok := &token.Token{AccessToken: "a"}
		c.Store(tok)
		time.Sleep(1000 * time.Hour)
		if c.Load() != tok {
			t.Error("token without expiry was invalidated")
		}
	})
}

func TestExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := tokencache.Cache{ExpiryBuffer: 10 * time.Second}
		tok := &token.Token{AccessToken: "a", ExpiresAt: time.Now().Add(time.Minute)}
		c.Store(tok)

		time.Sleep(49 * time.Second)
		synctest.Wait()
		if c.Load() != tok {
			t.Fatal("token invalidated before its expiry buffer")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := c.Load(); got != nil {
			t.Fatalf("Load() inside the expiry buffer = %v, want nil", got)
		}
		if c.Peek() != tok {
			t.Error("Peek() lost the expired token")
		}
	})
}

func TestBufferCappedAtHalfLifetime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := tokencache.Cache{ExpiryBuffer: time.Hour}
		tok := &token.Token{AccessToken: "a", ExpiresAt: time.Now().Add(10 * time.Second)}
		c.Store(tok)
		if c.Load() != tok {
			t.Fatal("short-lived token not served at all")
		}
		time.Sleep(4999 * time.Millisecond)
		synctest.Wait()
		if c.Load() != tok {
			t.Fatal("token invalidated before half its lifetime")
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if c.Load() != nil {
			t.Fatal("token served beyond half its lifetime despite a larger buffer")
		}
	})
}

func TestExpiredTokenIsNotServed(t *testing.T) {
	var c tokencache.Cache
	tok := &token.Token{AccessToken: "a", ExpiresAt: time.Now().Add(-time.Second)}
	c.Store(tok)
	if c.Load() != nil {
		t.Error("Load() returned an expired token")
	}
	if c.Peek() != tok {
		t.Error("Peek() did not return the expired token")
	}
}

func TestReplacedTokenTimerDoesNotInvalidateReplacement(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c tokencache.Cache
		first := &token.Token{AccessToken: "first", ExpiresAt: time.Now().Add(time.Minute)}
		second := &token.Token{AccessToken: "second", ExpiresAt: time.Now().Add(time.Hour)}
		c.Store(first)
		c.Store(second)
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if c.Load() != second {
			t.Error("the first token's expiry invalidated its replacement")
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	var c tokencache.Cache
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 1000 {
				switch (i + j) % 4 {
				case 0:
					c.Store(&token.Token{AccessToken: "a", ExpiresAt: time.Now().Add(time.Millisecond)})
				case 1:
					c.Clear()
				default:
					if tok := c.Load(); tok != nil && tok.AccessToken != "a" {
						t.Error("Load returned a corrupted token")
					}
					c.Peek()
				}
			}
		})
	}
	wg.Wait()
}

func TestLoadDoesNotAllocate(t *testing.T) {
	var c tokencache.Cache
	c.Store(&token.Token{AccessToken: "a", ExpiresAt: time.Now().Add(time.Hour)})
	if n := testing.AllocsPerRun(1000, func() {
		if c.Load() == nil {
			t.Fatal("Load() = nil")
		}
	}); n != 0 {
		t.Errorf("Load allocates %v times per call, want 0", n)
	}
}

func BenchmarkLoad(b *testing.B) {
	var c tokencache.Cache
	c.Store(&token.Token{AccessToken: "a", ExpiresAt: time.Now().Add(time.Hour)})
	b.ReportAllocs()
	for b.Loop() {
		if c.Load() == nil {
			b.Fatal("Load() = nil")
		}
	}
}

func BenchmarkLoadParallel(b *testing.B) {
	var c tokencache.Cache
	c.Store(&token.Token{AccessToken: "a", ExpiresAt: time.Now().Add(time.Hour)})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if c.Load() == nil {
				b.Fatal("Load() = nil")
			}
		}
	})
}
