package debug

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// OperationStats are the statistics of one operation. Durations are in
// seconds, as the product brief's get_performance_stats shows them
// (stats["authenticate_client_credentials"]["last_duration_seconds"]).
// Percentiles come from a log-linear histogram and are within 3.2% of the
// exact value, and within the observed minimum and maximum.
type OperationStats struct {
	// CallCount is the number of calls.
	CallCount int64 `json:"call_count"`
	// ErrorCount is the number of calls that returned an error.
	ErrorCount int64 `json:"error_count"`
	// LastDurationSeconds is the duration of the latest call.
	LastDurationSeconds float64 `json:"last_duration_seconds"`
	// AverageDurationSeconds is the mean duration.
	AverageDurationSeconds float64 `json:"average_duration_seconds"`
	// MinDurationSeconds is the shortest duration.
	MinDurationSeconds float64 `json:"min_duration_seconds"`
	// MaxDurationSeconds is the longest duration.
	MaxDurationSeconds float64 `json:"max_duration_seconds"`
	// P50DurationSeconds is the median duration.
	P50DurationSeconds float64 `json:"p50_duration_seconds"`
	// P95DurationSeconds is the 95th percentile of the durations.
	P95DurationSeconds float64 `json:"p95_duration_seconds"`
	// P99DurationSeconds is the 99th percentile of the durations.
	P99DurationSeconds float64 `json:"p99_duration_seconds"`
	// TotalDurationSeconds is the sum of the durations.
	TotalDurationSeconds float64 `json:"total_duration_seconds"`
	// LastErrorCode is the OAuth error code of the latest failed call, or
	// "error" for an error without one; empty before any failure.
	LastErrorCode string `json:"last_error_code,omitempty"`
}

// The histogram is log-linear, like HdrHistogram with two significant
// binary digits more: durations below 2*sub nanoseconds have a bucket
// each; above, every power of two is split into sub buckets, so a bucket
// spans at most 1/sub of its lower bound and its midpoint is within
// 1/(2*sub) of any value in it.
const (
	subBits    = 4
	sub        = 1 << subBits
	numBuckets = 2*sub + (63-subBits-1)*sub // up to math.MaxInt64 ns
)

// bucketOf returns the bucket of a duration of ns nanoseconds.
func bucketOf(ns int64) int {
	if ns < 0 {
		ns = 0
	}
	u := uint64(ns)
	if u < 2*sub {
		return int(u)
	}
	e := bits.Len64(u) - (subBits + 1) // at least 1
	m := u >> e                        // sub..2*sub-1
	return 2*sub + (e-1)*sub + int(m-sub)
}

// bucketRange returns the smallest and largest duration in bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < 2*sub {
		return int64(i), int64(i)
	}
	e := (i-2*sub)/sub + 1
	m := uint64((i-2*sub)%sub + sub)
	return int64(m << e), int64((m+1)<<e - 1)
}

// operation holds the statistics of one operation in atomics, so that
// Observe takes no lock.
type operation struct {
	calls, errors atomic.Int64
	total         atomic.Int64 // nanoseconds; overflows after 292 years
	last          atomic.Int64
	min, max      atomic.Int64
	lastErr       atomic.Pointer[string]
	buckets       [numBuckets]atomic.Uint64
}

func newOperation() *operation {
	o := &operation{}
	o.min.Store(math.MaxInt64)
	return o
}

func (o *operation) observe(dur time.Duration, err error) {
	ns := max(int64(dur), 0)
	o.buckets[bucketOf(ns)].Add(1)
	o.total.Add(ns)
	o.last.Store(ns)
	for cur := o.min.Load(); ns < cur && !o.min.CompareAndSwap(cur, ns); cur = o.min.Load() {
	}
	for cur := o.max.Load(); ns > cur && !o.max.CompareAndSwap(cur, ns); cur = o.max.Load() {
	}
	if err != nil {
		code := errorCode(err)
		o.lastErr.Store(&code)
		o.errors.Add(1)
	}
	o.calls.Add(1)
}

func seconds(ns int64) float64 { return time.Duration(ns).Seconds() }

func (o *operation) snapshot() OperationStats {
	s := OperationStats{
		CallCount:           o.calls.Load(),
		ErrorCount:          o.errors.Load(),
		LastDurationSeconds: seconds(o.last.Load()),
	}
	if s.CallCount == 0 {
		return s
	}
	total := o.total.Load()
	lo, hi := o.min.Load(), o.max.Load()
	s.TotalDurationSeconds = seconds(total)
	s.AverageDurationSeconds = seconds(total) / float64(s.CallCount)
	s.MinDurationSeconds, s.MaxDurationSeconds = seconds(lo), seconds(hi)
	if code := o.lastErr.Load(); code != nil {
		s.LastErrorCode = *code
	}

	var counts [numBuckets]uint64
	var n uint64
	for i := range counts {
		counts[i] = o.buckets[i].Load()
		n += counts[i]
	}
	s.P50DurationSeconds = seconds(quantile(&counts, n, 0.50, lo, hi))
	s.P95DurationSeconds = seconds(quantile(&counts, n, 0.95, lo, hi))
	s.P99DurationSeconds = seconds(quantile(&counts, n, 0.99, lo, hi))
	return s
}

// quantile returns the q-quantile of the n durations counted in counts:
// the midpoint of the bucket that holds the ceil(q*n)-th smallest one,
// kept within [lo, hi], the observed extremes.
func quantile(counts *[numBuckets]uint64, n uint64, q float64, lo, hi int64) int64 {
	if n == 0 {
		return 0
	}
	rank := max(uint64(math.Ceil(q*float64(n))), 1)
	var cum uint64
	for i, c := range counts {
		cum += c
		if cum >= rank {
			blo, bhi := bucketRange(i)
			return min(max(blo+(bhi-blo)/2, lo), hi)
		}
	}
	return hi
}
