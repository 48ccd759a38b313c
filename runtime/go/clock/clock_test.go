package clock_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/clock"
)

var start = time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC)

func TestNewVirtualStartsAtTheGivenTime(t *testing.T) {
	if got := clock.NewVirtual(start).Now(); !got.Equal(start) {
		t.Errorf("Now() = %v, want %v", got, start)
	}
	if got := clock.NewVirtual(time.Time{}).Now(); !got.Equal(clock.DefaultStart) {
		t.Errorf("Now() of a zero start = %v, want DefaultStart %v", got, clock.DefaultStart)
	}
}

func TestTimeMovesOnlyWhenAdvanced(t *testing.T) {
	v := clock.NewVirtual(start)
	time.Sleep(2 * time.Millisecond)
	if got := v.Now(); !got.Equal(start) {
		t.Fatalf("Now() moved by itself to %v", got)
	}
	v.Advance(90 * time.Minute)
	if got := v.Since(start); got != 90*time.Minute {
		t.Errorf("after Advance(90m), Since(start) = %v", got)
	}
	v.Set(start.Add(2 * time.Hour))
	if got := v.Since(start); got != 2*time.Hour {
		t.Errorf("after Set(start+2h), Since(start) = %v", got)
	}
	v.Set(start) // never backwards
	v.Advance(-time.Hour)
	if got := v.Since(start); got != 2*time.Hour {
		t.Errorf("Set to the past or a negative Advance moved the clock to %v", got)
	}
}

// record returns a function timer body that appends name and the time it
// saw to log.
func record(v *clock.Virtual, mu *sync.Mutex, log *[]string, name string) func() {
	return func() {
		mu.Lock()
		defer mu.Unlock()
		*log = append(*log, name+"@"+v.Now().Sub(start).String())
	}
}

func TestTimersFireInOrderAtTheirDueTime(t *testing.T) {
	v := clock.NewVirtual(start)
	var mu sync.Mutex
	var log []string
	v.AfterFunc(3*time.Second, record(v, &mu, &log, "c"))
	v.AfterFunc(time.Second, record(v, &mu, &log, "a"))
	v.AfterFunc(2*time.Second, record(v, &mu, &log, "b1"))
	v.AfterFunc(2*time.Second, record(v, &mu, &log, "b2")) // same time: in the order set
	v.AfterFunc(time.Hour, record(v, &mu, &log, "late"))

	v.Advance(10 * time.Second)
	want := []string{"a@1s", "b1@2s", "b2@2s", "c@3s"}
	if !slices.Equal(log, want) {
		t.Errorf("fired %v, want %v", log, want)
	}
	if got := v.Since(start); got != 10*time.Second {
		t.Errorf("clock at %v after Advance(10s)", got)
	}
	if n := v.Pending(); n != 1 {
		t.Errorf("Pending() = %d, want 1 (the late timer)", n)
	}
}

func TestTimersSetByTimersFireInTheSameAdvance(t *testing.T) {
	v := clock.NewVirtual(start)
	var mu sync.Mutex
	var log []string
	var chain clock.Timer
	chain = v.AfterFunc(time.Second, func() {
		record(v, &mu, &log, "first")()
		chain.Reset(time.Second) // as tokencache re-arms its timer
		v.AfterFunc(500*time.Millisecond, record(v, &mu, &log, "nested"))
	})
	v.Advance(5 * time.Second)
	want := []string{"first@1s", "nested@1.5s", "first@2s", "nested@2.5s", "first@3s", "nested@3.5s", "first@4s", "nested@4.5s", "first@5s"}
	if !slices.Equal(log, want) {
		t.Errorf("fired %v, want %v", log, want)
	}
}

func TestStopAndReset(t *testing.T) {
	v := clock.NewVirtual(start)
	fired := 0
	tm := v.AfterFunc(time.Minute, func() { fired++ })
	if !tm.Stop() {
		t.Error("Stop of a pending timer reported false")
	}
	if tm.Stop() {
		t.Error("second Stop reported true")
	}
	v.Advance(2 * time.Minute)
	if fired != 0 {
		t.Fatal("a stopped timer fired")
	}
	if tm.Reset(time.Minute) {
		t.Error("Reset of a stopped timer reported it pending")
	}
	if !tm.Reset(2 * time.Minute) {
		t.Error("Reset of a pending timer reported it stopped")
	}
	v.Advance(time.Minute)
	if fired != 0 {
		t.Fatal("Reset did not move the due time")
	}
	v.Advance(time.Minute)
	if fired != 1 {
		t.Fatalf("fired %d times, want 1", fired)
	}
}

func TestChannelTimer(t *testing.T) {
	v := clock.NewVirtual(start)
	tm := v.NewTimer(time.Second)
	select {
	case <-tm.C():
		t.Fatal("timer fired before the clock moved")
	default:
	}
	v.Advance(5 * time.Second)
	if got := <-tm.C(); !got.Equal(start.Add(time.Second)) {
		t.Errorf("timer delivered %v, want its due time %v", got, start.Add(time.Second))
	}

	// No stale value after Reset or Stop (the Go 1.23 semantics).
	tm.Reset(time.Second)
	v.Advance(time.Second)
	tm.Reset(time.Second)
	select {
	case <-tm.C():
		t.Fatal("received a stale value after Reset")
	default:
	}
	v.Advance(time.Second)
	tm.Stop()
	select {
	case <-tm.C():
		t.Fatal("received a stale value after Stop")
	default:
	}
}

func TestZeroDurationFiresAtOnce(t *testing.T) {
	v := clock.NewVirtual(start)
	done := make(chan struct{})
	v.AfterFunc(0, func() { close(done) })
	<-done // without any Advance
	tm := v.NewTimer(-time.Second)
	if got := <-tm.C(); !got.Equal(start) {
		t.Errorf("got %v, want %v", got, start)
	}
	if v.Pending() != 0 {
		t.Errorf("Pending() = %d after immediate timers", v.Pending())
	}
}

func TestSleepAndBlockUntil(t *testing.T) {
	v := clock.NewVirtual(start)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	woke := make(chan time.Time)
	for _, d := range []time.Duration{time.Minute, time.Hour} {
		go func() {
			clock.Sleep(v, d)
			woke <- v.Now()
		}()
	}
	if err := v.BlockUntil(ctx, 2); err != nil {
		t.Fatalf("BlockUntil(2): %v", err)
	}
	if n := v.Waiting(); n != 2 {
		t.Fatalf("Waiting() = %d, want 2", n)
	}
	at, ok := v.AdvanceToNext()
	if !ok || !at.Equal(start.Add(time.Minute)) {
		t.Fatalf("AdvanceToNext() = %v, %v", at, ok)
	}
	if got := <-woke; !got.Equal(start.Add(time.Minute)) {
		t.Errorf("first sleeper woke at %v", got)
	}
	if next, _ := v.Next(); !next.Equal(start.Add(time.Hour)) {
		t.Errorf("Next() = %v, want start+1h", next)
	}
	v.Advance(time.Hour)
	<-woke
	if _, ok := v.AdvanceToNext(); ok {
		t.Error("AdvanceToNext with no timer reported one")
	}

	short, cancelShort := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancelShort()
	if err := v.BlockUntil(short, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("BlockUntil with nothing waiting = %v, want the context's error", err)
	}
}

func TestSleepContext(t *testing.T) {
	v := clock.NewVirtual(start)
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan bool)
	go func() { result <- clock.SleepContext(ctx, v, time.Minute) }()
	if err := v.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	v.Advance(time.Minute)
	if !<-result {
		t.Error("SleepContext reported an interrupted wait")
	}
	go func() { result <- clock.SleepContext(ctx, v, time.Minute) }()
	if err := v.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if <-result {
		t.Error("SleepContext ignored its context")
	}
	if v.Waiting() != 0 {
		t.Error("an abandoned SleepContext left its timer pending")
	}
}

func TestGoAndBlockUntilIdle(t *testing.T) {
	v := clock.NewVirtual(start)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.BlockUntilIdle(ctx); err != nil {
		t.Fatalf("BlockUntilIdle without tasks: %v", err)
	}

	// A task works, sleeps on the clock, works again and returns; the
	// clock is idle only while it sleeps and once it has returned.
	release := make(chan struct{})
	var steps []string
	var mu sync.Mutex
	step := func(s string) {
		mu.Lock()
		steps = append(steps, s)
		mu.Unlock()
	}
	clock.Go(v, func() {
		<-release
		step("before")
		clock.Sleep(v, time.Minute)
		step("after@" + v.Since(start).String())
	})
	if v.Tasks() != 1 {
		t.Fatalf("Tasks() = %d, want 1", v.Tasks())
	}
	short, cancelShort := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelShort()
	if err := v.BlockUntilIdle(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("BlockUntilIdle with a working task = %v, want the context's error", err)
	}
	close(release)
	if err := v.BlockUntilIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if v.Waiting() != 1 || v.Tasks() != 1 {
		t.Fatalf("idle with Waiting() = %d, Tasks() = %d, want the task asleep", v.Waiting(), v.Tasks())
	}
	v.Advance(time.Minute)
	if err := v.BlockUntilIdle(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := slices.Clone(steps)
	mu.Unlock()
	if want := []string{"before", "after@1m0s"}; !slices.Equal(got, want) || v.Tasks() != 0 {
		t.Errorf("steps %v with %d tasks left, want %v and none", got, v.Tasks(), want)
	}

	// Another clock runs f with a go statement.
	done := make(chan struct{})
	clock.Go(nil, func() { close(done) })
	<-done
}

func TestWithTimeoutOnVirtualClock(t *testing.T) {
	v := clock.NewVirtual(start)
	parent, cancelParent := context.WithTimeout(context.Background(), time.Hour)
	defer cancelParent()
	ctx, cancel := clock.WithTimeout(parent, v, 30*time.Second)
	defer cancel()
	if d, _ := ctx.Deadline(); d != func() time.Time { d, _ := parent.Deadline(); return d }() {
		t.Error("a virtual timeout changed the real deadline")
	}
	v.Advance(29 * time.Second)
	if ctx.Err() != nil {
		t.Fatalf("ended early: %v", ctx.Err())
	}
	v.Advance(time.Second)
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) || context.Cause(ctx) != context.DeadlineExceeded {
		t.Errorf("Err() = %v, Cause = %v; want DeadlineExceeded", ctx.Err(), context.Cause(ctx))
	}

	expired, cancelExpired := clock.WithTimeout(context.Background(), v, 0)
	defer cancelExpired()
	if !errors.Is(expired.Err(), context.DeadlineExceeded) {
		t.Errorf("a zero timeout: Err() = %v, want DeadlineExceeded at once", expired.Err())
	}

	ctx2, cancel2 := clock.WithTimeout(context.Background(), v, time.Second)
	cancel2()
	if !errors.Is(ctx2.Err(), context.Canceled) {
		t.Errorf("canceled context: Err() = %v, want Canceled", ctx2.Err())
	}
	if v.Pending() != 0 {
		t.Error("cancel left the timeout's timer pending")
	}
}

func TestRealClockHelpers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		for _, c := range []clock.Clock{nil, clock.Real{}} {
			if !clock.IsReal(c) {
				t.Errorf("IsReal(%v) = false", c)
			}
			if got := clock.Now(c); !got.Equal(time.Now()) {
				t.Errorf("Now(%v) = %v", c, got)
			}
			clock.Sleep(c, time.Minute)
			fired := make(chan struct{})
			clock.AfterFunc(c, time.Second, func() { close(fired) })
			<-fired
			ctx, cancel := clock.WithTimeout(context.Background(), c, time.Second)
			<-ctx.Done()
			cancel()
			if dl, ok := ctx.Deadline(); !ok || !errors.Is(ctx.Err(), context.DeadlineExceeded) || dl.IsZero() {
				t.Error("WithTimeout on the real clock is not context.WithTimeout")
			}
		}
		if got := time.Since(t0); got != 2*(time.Minute+2*time.Second) {
			t.Errorf("real helpers took %v of (fake) real time", got)
		}
		if clock.IsReal(clock.NewVirtual(start)) {
			t.Error("IsReal(Virtual) = true")
		}
		if clock.Until(nil, time.Now().Add(time.Second)) != time.Second || clock.Since(nil, time.Now().Add(-time.Second)) != time.Second {
			t.Error("Until or Since of the real clock is off")
		}
	})
}

func TestRealTimerDoesNotAllocateBeyondTimeTimer(t *testing.T) {
	f := func() {}
	want := testing.AllocsPerRun(100, func() { time.AfterFunc(time.Hour, f).Stop() })
	got := testing.AllocsPerRun(100, func() { clock.AfterFunc(nil, time.Hour, f).Stop() })
	if got != want {
		t.Errorf("clock.AfterFunc(nil) allocates %v times, time.AfterFunc %v", got, want)
	}
}

func TestConcurrentUse(t *testing.T) {
	v := clock.NewVirtual(start)
	var wg sync.WaitGroup
	var fired sync.WaitGroup
	for i := range 50 {
		fired.Add(1)
		wg.Go(func() {
			v.AfterFunc(time.Duration(i+1)*time.Millisecond, fired.Done)
			tm := v.NewTimer(time.Duration(i+1) * time.Millisecond)
			tm.Stop()
		})
		wg.Go(func() { v.Advance(time.Millisecond) })
	}
	wg.Wait()
	v.Advance(time.Second)
	fired.Wait()
	if v.Pending() != 0 || v.Waiting() != 0 {
		t.Errorf("Pending() = %d, Waiting() = %d after all fired", v.Pending(), v.Waiting())
	}
}
