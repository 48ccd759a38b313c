package tokencache_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clock"
	"github.com/coyotesense/coyotegen/runtime/go/token"
	"github.com/coyotesense/coyotegen/runtime/go/tokencache"
)

// wantLoad checks what Load returns.
func wantLoad(t *testing.T, c *tokencache.Cache, tok *token.Token, status tokencache.Status) {
	t.Helper()
	got, st := c.Load()
	if got != tok || st != status {
		t.Errorf("Load() = %v, %v; want %v, %v", got, st, tok, status)
	}
}

func TestZeroValue(t *testing.T) {
	var c tokencache.Cache
	wantLoad(t, &c, nil, tokencache.Empty)
	if got := c.Peek(); got != nil {
		t.Errorf("Peek() on empty cache = %v, want nil", got)
	}
	c.Clear() // must not panic on an empty cache
	if c.Invalidate(nil) {
		t.Error("Invalidate on an empty cache reported a change")
	}
}

func TestStoreLoadClear(t *testing.T) {
	var c tokencache.Cache
	tok := &token.Token{AccessToken: "a", TokenType: "Bearer", ExpiresAt: time.Now().Add(time.Hour)}
	c.Store(tok)
	wantLoad(t, &c, tok, tokencache.Fresh)
	if got := c.Peek(); got != tok {
		t.Errorf("Peek() = %v, want the stored token", got)
	}
	c.Clear()
	wantLoad(t, &c, nil, tokencache.Empty)
	if got := c.Peek(); got != nil {
		t.Errorf("Peek() after Clear = %v, want nil", got)
	}
	c.Store(tok)
	c.Store(nil)
	if c.Peek() != nil {
		t.Error("Store(nil) did not clear the cache")
	}
}

func TestInvalidate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := tokencache.Cache{RefreshBuffer: time.Minute}
		old := &token.Token{AccessToken: "old", ExpiresAt: time.Now().Add(time.Hour)}
		replacement := &token.Token{AccessToken: "new", ExpiresAt: time.Now().Add(time.Hour)}
		c.Store(old)
		c.Store(replacement)
		if c.Invalidate(old) {
			t.Error("Invalidate(old) invalidated the replacement")
		}
		wantLoad(t, &c, replacement, tokencache.Fresh)
		if !c.Invalidate(replacement) {
			t.Error("Invalidate(current) reported no change")
		}
		wantLoad(t, &c, replacement, tokencache.Expired)
		if c.Invalidate(replacement) {
			t.Error("a second Invalidate reported a change")
		}

		// The entry's timer must not bring an invalidated token back.
		time.Sleep(time.Hour - 30*time.Second)
		synctest.Wait()
		wantLoad(t, &c, replacement, tokencache.Expired)
	})
}

func TestNoExpiryStaysFresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := tokencache.Cache{RefreshBuffer: time.Minute}
		tok := &token.Token{AccessToken: "a"}
		c.Store(tok)
		time.Sleep(1000 * time.Hour)
		wantLoad(t, &c, tok, tokencache.Fresh)
	})
}

func TestLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := tokencache.Cache{RefreshBuffer: 10 * time.Second}
		tok := &token.Token{AccessToken: "a", ExpiresAt: time.Now().Add(time.Minute)}
		c.Store(tok)

		time.Sleep(49 * time.Second)
		synctest.Wait()
		wantLoad(t, &c, tok, tokencache.Fresh)
		time.Sleep(time.Second)
		synctest.Wait()
		wantLoad(t, &c, tok, tokencache.RefreshDue)
		time.Sleep(9 * time.Second)
		synctest.Wait()
		wantLoad(t, &c, tok, tokencache.RefreshDue)
		time.Sleep(time.Second)
		synctest.Wait()
		wantLoad(t, &c, tok, tokencache.Expired)
		if c.Peek() != tok {
			t.Error("Peek() lost the expired token")
		}
	})
}

func TestZeroBufferGoesFromFreshToExpired(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c tokencache.Cache
		tok := &token.Token{AccessToken: "a", ExpiresAt: time.Now().Add(time.Minute)}
		c.Store(tok)
		time.Sleep(time.Minute - time.Nanosecond)
		synctest.Wait()
		wantLoad(t, &c, tok, tokencache.Fresh)
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		wantLoad(t, &c, tok, tokencache.Expired)
	})
}

func TestBufferCappedAtHalfLifetime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := tokencache.Cache{RefreshBuffer: time.Hour}
		tok := &token.Token{AccessToken: "a", ExpiresAt: time.Now().Add(10 * time.Second)}
		c.Store(tok)
		wantLoad(t, &c, tok, tokencache.Fresh)
		time.Sleep(4999 * time.Millisecond)
		synctest.Wait()
		wantLoad(t, &c, tok, tokencache.Fresh)
		time.Sleep(time.Millisecond)
		synctest.Wait()
		wantLoad(t, &c, tok, tokencache.RefreshDue)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		wantLoad(t, &c, tok, tokencache.Expired)
	})
}

func TestExpiredTokenIsStoredExpired(t *testing.T) {
	var c tokencache.Cache
	tok := &token.Token{AccessToken: "a", ExpiresAt: time.Now().Add(-time.Second)}
	c.Store(tok)
	wantLoad(t, &c, tok, tokencache.Expired)
}

func TestReplacedTokenTimerDoesNotTouchReplacement(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := tokencache.Cache{RefreshBuffer: 10 * time.Second}
		first := &token.Token{AccessToken: "first", ExpiresAt: time.Now().Add(time.Minute)}
		second := &token.Token{AccessToken: "second", ExpiresAt: time.Now().Add(time.Hour)}
		c.Store(first)
		c.Store(second)
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		wantLoad(t, &c, second, tokencache.Fresh)
	})
}

func TestStatus(t *testing.T) {
	for st, want := range map[tokencache.Status]struct {
		name   string
		usable bool
	}{
		tokencache.Empty:      {"empty", false},
		tokencache.Fresh:      {"fresh", true},
		tokencache.RefreshDue: {"refresh due", true},
		tokencache.Expired:    {"expired", false},
		tokencache.Status(9):  {"Status(9)", false},
	} {
		if st.String() != want.name || st.Usable() != want.usable {
			t.Errorf("%d: String() = %q, Usable() = %v; want %q, %v", st, st.String(), st.Usable(), want.name, want.usable)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	c := tokencache.Cache{RefreshBuffer: time.Millisecond}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 1000 {
				switch (i + j) % 5 {
				case 0:
					c.Store(&token.Token{AccessToken: "a", ExpiresAt: time.Now().Add(2 * time.Millisecond)})
				case 1:
					c.Clear()
				case 2:
					c.Invalidate(c.Peek())
				default:
					if tok, _ := c.Load(); tok != nil && tok.AccessToken != "a" {
						t.Error("Load returned a corrupted token")
					}
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
		if _, st := c.Load(); st != tokencache.Fresh {
			t.Fatal("token not fresh")
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
		if _, st := c.Load(); st != tokencache.Fresh {
			b.Fatal("token not fresh")
		}
	}
}

func BenchmarkLoadParallel(b *testing.B) {
	var c tokencache.Cache
	c.Store(&token.Token{AccessToken: "a", ExpiresAt: time.Now().Add(time.Hour)})
	b.ReportAllocs()
	b.SetParallelism(500)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, st := c.Load(); st != tokencache.Fresh {
				b.Fatal("token not fresh")
			}
		}
	})
}

func TestLifecycleOnVirtualClock(t *testing.T) {
	v := clock.NewVirtual(time.Time{})
	c := tokencache.Cache{RefreshBuffer: 5 * time.Minute, Clock: v}
	tok := &token.Token{AccessToken: "a", ExpiresAt: v.Now().Add(time.Hour)}
	c.Store(tok)
	wantLoad(t, &c, tok, tokencache.Fresh)

	v.Advance(55*time.Minute - time.Nanosecond)
	wantLoad(t, &c, tok, tokencache.Fresh)
	v.Advance(time.Nanosecond) // the timer runs within Advance
	wantLoad(t, &c, tok, tokencache.RefreshDue)
	v.Advance(5*time.Minute - time.Nanosecond)
	wantLoad(t, &c, tok, tokencache.RefreshDue)
	v.Advance(time.Nanosecond)
	wantLoad(t, &c, tok, tokencache.Expired)
	if n := v.Pending(); n != 0 {
		t.Errorf("%d timers pending after expiry", n)
	}

	// Expiry is judged by the virtual clock, not the system clock.
	ahead := clock.NewVirtual(time.Now().Add(48 * time.Hour))
	d := tokencache.Cache{Clock: ahead}
	validBySystemClock := &token.Token{AccessToken: "b", ExpiresAt: time.Now().Add(time.Hour)}
	d.Store(validBySystemClock)
	wantLoad(t, &d, validBySystemClock, tokencache.Expired)
}

func TestReplacedTokenTimerIsStoppedOnVirtualClock(t *testing.T) {
	v := clock.NewVirtual(time.Time{})
	c := tokencache.Cache{RefreshBuffer: time.Minute, Clock: v}
	c.Store(&token.Token{AccessToken: "first", ExpiresAt: v.Now().Add(time.Hour)})
	second := &token.Token{AccessToken: "second", ExpiresAt: v.Now().Add(2 * time.Hour)}
	c.Store(second)
	if n := v.Pending(); n != 1 {
		t.Fatalf("%d timers pending, want 1: the replaced token's timer was not stopped", n)
	}
	v.Advance(90 * time.Minute)
	wantLoad(t, &c, second, tokencache.Fresh)
	c.Clear()
	if n := v.Pending(); n != 0 {
		t.Errorf("%d timers pending after Clear", n)
	}
}
