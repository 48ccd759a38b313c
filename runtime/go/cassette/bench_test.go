package cassette

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

const benchTokenResponse = `{"access_token":"ory_at_0123456789abcdefghijklmnopqrstuvwxyz.ABCDEFGHIJKLMNOPQRSTUVWXYZ","expires_in":3599,"scope":"trading market-data","token_type":"bearer"}`

// stubTransport answers every request with the same token response.
type stubTransport struct{}

func (stubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	h := http.Header{"Content-Type": {"application/json;charset=UTF-8"}, "Cache-Control": {"no-store"}, "Pragma": {"no-cache"}}
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader(benchTokenResponse)), Request: req}, nil
}

func benchRequest(b *testing.B, scope string) *http.Request {
	body := "grant_type=client_credentials&scope=" + scope
	req, err := http.NewRequest(http.MethodPost, "https://auth.example.com/oauth2/token", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth("basic-client", "basic-secret")
	return req
}

// BenchmarkRecord measures what recording adds to a token request over
// a transport that answers at once: reading, redacting and keeping the
// exchange.
func BenchmarkRecord(b *testing.B) {
	rec := &Recorder{}
	rt := rec.Wrap(stubTransport{})
	b.ReportAllocs()
	for b.Loop() {
		resp, err := rt.RoundTrip(benchRequest(b, "trading+market-data"))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkReplay measures answering a token request from a cassette of
// 20 interactions whose last one matches.
func BenchmarkReplay(b *testing.B) {
	rec := &Recorder{}
	rt := rec.Wrap(stubTransport{})
	for i := range 20 {
		resp, err := rt.RoundTrip(benchRequest(b, fmt.Sprintf("scope-%d", i)))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
	r, err := NewReplayer(rec.Cassette())
	if err != nil {
		b.Fatal(err)
	}
	body := []byte("grant_type=client_credentials&scope=scope-19")
	b.ReportAllocs()
	for b.Loop() {
		req := benchRequest(b, "scope-19")
		req.Body = io.NopCloser(bytes.NewReader(body))
		resp, err := r.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		r.mu.Lock()
		r.used[19] = false
		r.mu.Unlock()
	}
}
