package clock

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// DefaultStart is the time a Virtual clock made by NewVirtual with the
// zero time starts at: a fixed instant, so that simulated runs are
// reproducible.
var DefaultStart = time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)

// Virtual is a clock whose time moves only when Advance or Set is called.
// Timers fire during that call, in order of their due time (timers due at
// the same time in the order they were set), each seeing Now equal to its
// due time:
//
//   - an AfterFunc timer's function runs on the goroutine that advances
//     the clock, before the next timer fires, so that once Advance
//     returns every function due has run (a function may set, reset or
//     stop timers, and those due by the end of the advance fire too, but
//     must not advance the clock itself);
//   - a channel timer (NewTimer, and so Sleep and SleepContext) receives
//     its due time; the goroutine waiting on it resumes on its own, and
//     may read a later Now if the same Advance went further. Tests that
//     need each wakeup to see its own time step with AdvanceToNext, and
//     use BlockUntil to know when such goroutines wait again.
//
// A timer set for a duration of zero or less fires at once, as on the real
// clock: an AfterFunc function in a goroutine of its own, since the caller
// may hold a lock that the function takes.
//
// Virtual is safe for concurrent use; calls that move the clock are
// serialised. Its times carry no monotonic clock reading.
type Virtual struct {
	advancing sync.Mutex // serialises Advance and Set

	mu      sync.Mutex
	now     time.Time
	seq     uint64
	timers  timerHeap
	waiting int           // pending channel timers
	tasks   int           // goroutines started by Go that have not returned
	changed chan struct{} // closed and replaced whenever timers or tasks change
}

// NewVirtual returns a Virtual clock that reads start, or DefaultStart for
// the zero time.
func NewVirtual(start time.Time) *Virtual {
	if start.IsZero() {
		start = DefaultStart
	}
	return &Virtual{now: start.Round(0), changed: make(chan struct{})}
}

var _ Clock = (*Virtual)(nil)

// Now returns the clock's current time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// Since returns the virtual time elapsed since t.
func (v *Virtual) Since(t time.Time) time.Duration { return v.Now().Sub(t) }

// AfterFunc calls f once the clock has been advanced by d; see Virtual
// for when and on which goroutine.
func (v *Virtual) AfterFunc(d time.Duration, f func()) Timer {
	t := &virtualTimer{v: v, f: f, index: -1}
	t.Reset(d)
	return t
}

// NewTimer returns a timer that sends the clock's time on its channel once
// the clock has been advanced by d.
func (v *Virtual) NewTimer(d time.Duration) Timer {
	t := &virtualTimer{v: v, c: make(chan time.Time, 1), index: -1}
	t.Reset(d)
	return t
}

// Advance moves the clock forward by d, firing every timer that falls due
// on the way, in order. A negative d is treated as zero; Advance(0) fires
// nothing but timers already due.
func (v *Virtual) Advance(d time.Duration) {
	v.advancing.Lock()
	defer v.advancing.Unlock()
	v.mu.Lock()
	v.advanceLocked(v.now.Add(max(d, 0)))
	v.mu.Unlock()
}

// Set moves the clock forward to t, firing every timer that falls due on
// the way, in order. A t before Now leaves the clock where it is: virtual
// time, like the monotonic clock that timers use, never goes back.
func (v *Virtual) Set(t time.Time) {
	v.advancing.Lock()
	defer v.advancing.Unlock()
	v.mu.Lock()
	if t.After(v.now) {
		v.advanceLocked(t.Round(0))
	} else {
		v.advanceLocked(v.now)
	}
	v.mu.Unlock()
}

// AdvanceToNext moves the clock to the due time of the earliest pending
// timer and fires the timers due then; it returns that time, or false and
// leaves the clock alone when no timer is pending.
func (v *Virtual) AdvanceToNext() (time.Time, bool) {
	v.advancing.Lock()
	defer v.advancing.Unlock()
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.timers) == 0 {
		return time.Time{}, false
	}
	next := v.timers[0].when
	v.advanceLocked(next)
	return next, true
}

// advanceLocked fires the timers due by target and moves the clock there.
// v.mu is held, and released while AfterFunc functions run.
func (v *Virtual) advanceLocked(target time.Time) {
	for len(v.timers) > 0 && !v.timers[0].when.After(target) {
		t := heap.Pop(&v.timers).(*virtualTimer)
		if t.when.After(v.now) {
			v.now = t.when
		}
		v.notifyLocked()
		if t.c != nil {
			v.waiting--
			select {
			case t.c <- v.now:
			default:
			}
			continue
		}
		v.mu.Unlock()
		t.f()
		v.mu.Lock()
	}
	if target.After(v.now) {
		v.now = target
	}
}

// Next returns the due time of the earliest pending timer, or false when
// none is pending.
func (v *Virtual) Next() (time.Time, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.timers) == 0 {
		return time.Time{}, false
	}
	return v.timers[0].when, true
}

// Pending returns the number of timers that have not fired or been
// stopped, of both kinds.
func (v *Virtual) Pending() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.timers)
}

// Waiting returns the number of pending channel timers: those made by
// NewTimer, Sleep and SleepContext, on which a goroutine typically waits.
// AfterFunc timers are not counted, since nothing waits on them.
func (v *Virtual) Waiting() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.waiting
}

// BlockUntil waits, in real time, until at least n channel timers are
// pending (see Waiting), or ctx ends. Tests call it before Advance to
// know that the goroutines they drive have reached their next wait on the
// clock, such as a retry backoff or a simulated latency.
func (v *Virtual) BlockUntil(ctx context.Context, n int) error {
	for {
		v.mu.Lock()
		if v.waiting >= n {
			v.mu.Unlock()
			return nil
		}
		changed := v.changed
		v.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Go runs f in a new goroutine that the clock counts as one of its tasks
// until f returns (see BlockUntilIdle). Code that starts background work
// on a clock it was given, such as a token source's early refresh, does
// so through the package-level Go, which comes here for a Virtual clock.
func (v *Virtual) Go(f func()) {
	v.mu.Lock()
	v.tasks++
	v.notifyLocked()
	v.mu.Unlock()
	go func() {
		defer func() {
			v.mu.Lock()
			v.tasks--
			v.notifyLocked()
			v.mu.Unlock()
		}()
		f()
	}()
}

// Tasks returns the number of goroutines started by Go that have not
// returned.
func (v *Virtual) Tasks() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.tasks
}

// BlockUntilIdle waits, in real time, until the clock's tasks (see Go)
// have come to rest, or ctx ends: until every task has returned or waits
// on one of the clock's channel timers, that is until Waiting is at least
// Tasks. A test calls it after an action that may start background work
// and after each Advance, to know that the work due has run before it
// looks at the outcome or moves the clock again.
//
// It counts goroutines rather than following each one, so it holds when
// the goroutines that wait on channel timers are tasks, or goroutines that
// tasks wait for: a token source's background refresh sleeping out a
// backoff, or its request waiting for a simulated latency. A caller that
// itself sleeps on the clock meanwhile makes it return early.
func (v *Virtual) BlockUntilIdle(ctx context.Context) error {
	for {
		v.mu.Lock()
		if v.waiting >= v.tasks {
			v.mu.Unlock()
			return nil
		}
		changed := v.changed
		v.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notifyLocked wakes BlockUntil and BlockUntilIdle callers; v.mu is held.
func (v *Virtual) notifyLocked() {
	close(v.changed)
	v.changed = make(chan struct{})
}

// virtualTimer is a timer of a Virtual clock: a function timer when f is
// set, a channel timer otherwise.
type virtualTimer struct {
	v     *Virtual
	f     func()
	c     chan time.Time
	when  time.Time
	seq   uint64
	index int // in v.timers; -1 when not pending
}

func (t *virtualTimer) C() <-chan time.Time { return t.c }

// Stop removes the timer from the clock and reports whether it was
// pending. A channel timer's unreceived value is discarded.
func (t *virtualTimer) Stop() bool {
	v := t.v
	v.mu.Lock()
	defer v.mu.Unlock()
	return t.stopLocked()
}

func (t *virtualTimer) stopLocked() bool {
	v := t.v
	if t.c != nil {
		select {
		case <-t.c:
		default:
		}
	}
	if t.index < 0 {
		return false
	}
	heap.Remove(&v.timers, t.index)
	if t.c != nil {
		v.waiting--
	}
	v.notifyLocked()
	return true
}

// Reset makes the timer fire d after the clock's current time and reports
// whether it was pending.
func (t *virtualTimer) Reset(d time.Duration) bool {
	v := t.v
	v.mu.Lock()
	pending := t.stopLocked()
	if d <= 0 {
		if t.c != nil {
			t.c <- v.now // the channel was drained above
		}
		v.mu.Unlock()
		if t.f != nil {
			go t.f()
		}
		return pending
	}
	t.when = v.now.Add(d)
	v.seq++
	t.seq = v.seq
	heap.Push(&v.timers, t)
	if t.c != nil {
		v.waiting++
	}
	v.notifyLocked()
	v.mu.Unlock()
	return pending
}

// timerHeap orders pending timers by due time, then by the order they
// were set.
type timerHeap []*virtualTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*virtualTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}
