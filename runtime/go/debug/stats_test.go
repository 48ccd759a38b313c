package debug

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
)

func TestBuckets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := []int64{0, 1, 31, 32, 33, 63, 64, 1000, 1 << 40, math.MaxInt64}
	for range 10000 {
		values = append(values, r.Int64N(1<<r.IntN(63)+1))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, i)
		}
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Fatalf("%d is not in bucket %d [%d, %d]", v, i, lo, hi)
		}
		if mid := lo + (hi-lo)/2; v >= 2*sub && math.Abs(float64(mid-v))/float64(v) > 1.0/(2*sub) {
			t.Fatalf("midpoint %d of bucket %d is more than 1/%d from %d", mid, i, 2*sub, v)
		}
	}
	// Buckets tile the range without gaps.
	for i := 1; i < numBuckets; i++ {
		_, prevHi := bucketRange(i - 1)
		lo, _ := bucketRange(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, bucket %d ends at %d", i, lo, i-1, prevHi)
		}
	}
	if _, hi := bucketRange(numBuckets - 1); hi != math.MaxInt64 {
		t.Errorf("last bucket ends at %d", hi)
	}
}

// TestPercentiles compares the histogram's percentiles with the exact ones
// of a skewed sample.
func TestPercentiles(t *testing.T) {
	d, _ := New(Options{PerformanceTracking: true})
	r := rand.New(rand.NewPCG(3, 4))
	var all []time.Duration
	var last time.Duration
	for range 20000 {
		// Log-normal around 20ms, as network latencies are.
		v := time.Duration(math.Exp(r.NormFloat64()*0.8) * float64(20*time.Millisecond))
		all = append(all, v)
		last = v
		d.Observe("authenticate_client_credentials", v, nil)
	}
	slices.Sort(all)
	exact := func(q float64) float64 { return all[int(math.Ceil(q*float64(len(all))))-1].Seconds() }
	s := d.Stats()["authenticate_client_credentials"]
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"p50", s.P50DurationSeconds, exact(0.50)},
		{"p95", s.P95DurationSeconds, exact(0.95)},
		{"p99", s.P99DurationSeconds, exact(0.99)},
		{"min", s.MinDurationSeconds, all[0].Seconds()},
		{"max", s.MaxDurationSeconds, all[len(all)-1].Seconds()},
	} {
		if math.Abs(c.got-c.want)/c.want > 1.0/32 {
			t.Errorf("%s = %v, exact %v", c.name, c.got, c.want)
		}
	}
	var sum time.Duration
	for _, v := range all {
		sum += v
	}
	if want := sum.Seconds() / float64(len(all)); math.Abs(s.AverageDurationSeconds-want) > 1e-9 {
		t.Errorf("average = %v, want %v", s.AverageDurationSeconds, want)
	}
	if s.CallCount != 20000 || s.ErrorCount != 0 || s.LastDurationSeconds != last.Seconds() {
		t.Errorf("stats = %+v", s)
	}
}

func TestObserveCounts(t *testing.T) {
	d, _ := New(Options{PerformanceTracking: true})
	d.Observe("refresh_token", 10*time.Millisecond, nil)
	d.Observe("refresh_token", 30*time.Millisecond, &oautherr.Error{Code: oautherr.CodeInvalidGrant})
	d.Observe("refresh_token", 20*time.Millisecond, nil)
	d.Observe("revoke_token", time.Millisecond, errors.New("plain"))
	stats := d.Stats()
	s := stats["refresh_token"]
	want := OperationStats{
		CallCount: 3, ErrorCount: 1, LastDurationSeconds: 0.02, AverageDurationSeconds: 0.02,
		MinDurationSeconds: 0.01, MaxDurationSeconds: 0.03, TotalDurationSeconds: 0.06, LastErrorCode: "invalid_grant",
	}
	s.P50DurationSeconds, s.P95DurationSeconds, s.P99DurationSeconds = 0, 0, 0
	if math.Abs(s.AverageDurationSeconds-want.AverageDurationSeconds) < 1e-12 {
		s.AverageDurationSeconds = want.AverageDurationSeconds
	}
	if math.Abs(s.TotalDurationSeconds-want.TotalDurationSeconds) < 1e-12 {
		s.TotalDurationSeconds = want.TotalDurationSeconds
	}
	if s != want {
		t.Errorf("stats = %+v\nwant    %+v", s, want)
	}
	if got := stats["revoke_token"]; got.ErrorCount != 1 || got.LastErrorCode != "error" {
		t.Errorf("revoke_token = %+v", got)
	}
	if ops := d.Operations(); !slices.Equal(ops, []string{"refresh_token", "revoke_token"}) {
		t.Errorf("Operations() = %q", ops)
	}
}

func TestObserveDisabled(t *testing.T) {
	d, _ := New(Options{})
	d.Observe("get_valid_token", time.Millisecond, nil)
	if s := d.Stats(); len(s) != 0 {
		t.Errorf("Stats() = %v without performance_tracking", s)
	}
}

func TestObserveConcurrent(t *testing.T) {
	d, _ := New(Options{PerformanceTracking: true})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				var err error
				if i%10 == 0 {
					err = &oautherr.Error{Code: oautherr.CodeServerError}
				}
				d.Observe("get_valid_token", time.Duration(g*1000+i)*time.Microsecond, err)
			}
		})
	}
	for range 100 {
		_ = d.Stats()
	}
	wg.Wait()
	s := d.Stats()["get_valid_token"]
	if s.CallCount != 8000 || s.ErrorCount != 800 || s.MinDurationSeconds != 0 || s.MaxDurationSeconds != (7999*time.Microsecond).Seconds() {
		t.Errorf("stats = %+v", s)
	}
}

func TestObserveAllocatesNothing(t *testing.T) {
	d, _ := New(Options{PerformanceTracking: true})
	d.Observe("get_valid_token", time.Millisecond, nil)
	if n := testing.AllocsPerRun(1000, func() { d.Observe("get_valid_token", time.Millisecond, nil) }); n != 0 {
		t.Errorf("Observe allocates %v times per call", n)
	}
}

func TestOperationContext(t *testing.T) {
	ctx := WithOperation(context.Background(), "introspect_token")
	if got := OperationFrom(ctx); got != "introspect_token" {
		t.Errorf("OperationFrom = %q", got)
	}
	if got := OperationFrom(context.Background()); got != "" {
		t.Errorf("OperationFrom(background) = %q", got)
	}
}

func BenchmarkObserve(b *testing.B) {
	d, _ := New(Options{PerformanceTracking: true})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d.Observe("get_valid_token", 150*time.Microsecond, nil)
		}
	})
}

func BenchmarkStats(b *testing.B) {
	d, _ := New(Options{PerformanceTracking: true})
	for _, op := range []string{"authenticate_client_credentials", "get_valid_token", "refresh_token", "revoke_token", "introspect_token"} {
		d.Observe(op, time.Millisecond, nil)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = d.Stats()
	}
}
