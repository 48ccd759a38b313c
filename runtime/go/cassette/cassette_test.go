package cassette_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coyotesense/coyotegen/runtime/go/cassette"
	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
)

const fakeSecret = "s3cr3t-client-value"

// fakeServer is a deterministic authorization server: its n-th token
// response issues "AT-n-..." and "RT-n-...", its introspection echoes the
// token in an unexpected member, and /error leaks the client secret in
// a text body, so that the redaction rules and the sweep are both seen
// at work.
func fakeServer(t testing.TB) *httptest.Server {
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		fmt.Fprintf(w, `{"access_token":"AT-%d-abcdefghijkl","refresh_token":"RT-%d-abcdefghijkl","id_token":"eyJ.ID-%d.sig","token_type":"bearer","expires_in":3600,"scope":"b a"}`, i, i, i)
	})
	mux.HandleFunc("POST /introspect", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"active": true, "note": "introspected " + r.PostForm.Get("token"), "exp": 1700000000})
	})
	mux.HandleFunc("GET /resource", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello")
	})
	mux.HandleFunc("POST /error", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "cannot check "+fakeSecret)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func postForm(t testing.TB, c *http.Client, u string, form url.Values, edit func(*http.Request)) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dropped")
	if edit != nil {
		edit(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp
}

// fakeSession sends the same sequence of requests every time.
func fakeSession(t testing.TB, srv *httptest.Server, c *http.Client) {
	postForm(t, c, srv.URL+"/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {"the-code-12345"}, "code_verifier": {"verifier-abcdefgh"},
		"client_id": {"app"}, "client_secret": {fakeSecret}, "redirect_uri": {"http://127.0.0.1:5555/cb"},
	}, nil)
	postForm(t, c, srv.URL+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"RT-1-abcdefghijkl"}},
		func(r *http.Request) { r.SetBasicAuth("app", fakeSecret) })
	postForm(t, c, srv.URL+"/introspect", url.Values{"token": {"RT-2-abcdefghijkl"}, "token_type_hint": {"refresh_token"}}, nil)
	postForm(t, c, srv.URL+"/introspect", url.Values{"token": {"AT-1-abcdefghijkl"}}, nil)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/resource?access_token=AT-2-abcdefghijkl&x=1", nil)
	req.Header.Set("Authorization", "Bearer AT-2-abcdefghijkl")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	postForm(t, c, srv.URL+"/error", url.Values{"assertion": {"eyJ.assertion.sig"}, "password": {"pw"}}, nil)
}

// TestRedaction checks each redaction rule and the numbering of tokens
// across interactions on a recording of the fake server.
func TestRedaction(t *testing.T) {
	srv := fakeServer(t)
	rec := &cassette.Recorder{SDKVersion: "9.9.9"}
	fakeSession(t, srv, &http.Client{Transport: rec.Wrap(nil)})
	c := rec.Cassette()
	if c.SchemaVersion != 1 || c.Recorder != (cassette.RecorderInfo{SDK: "go", Version: "9.9.9"}) || len(c.Interactions) != 6 {
		t.Fatalf("cassette = %+v", c)
	}
	form := func(i int) map[string]string {
		m := map[string]string{}
		for _, p := range c.Interactions[i].Request.Form {
			m[p.Name] = p.Value
		}
		return m
	}
	body := func(i int) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(c.Interactions[i].Response.BodyJSON, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}

	// 1: authorization code exchange.
	in := c.Interactions[0]
	if want := (map[string]string{"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}); !reflect.DeepEqual(in.Request.Headers, want) {
		t.Errorf("request headers = %v, want %v", in.Request.Headers, want)
	}
	if want := (map[string]string{"client_id": "app", "client_secret": "<<client_secret>>", "code": "<<authorization_code:1>>",
		"code_verifier": "<<code_verifier>>", "grant_type": "authorization_code", "redirect_uri": "http://127.0.0.1:5555/cb"}); !reflect.DeepEqual(form(0), want) {
		t.Errorf("form = %v, want %v", form(0), want)
	}
	var names []string
	for _, p := range in.Request.Form {
		names = append(names, p.Name)
	}
	if want := "client_id client_secret code code_verifier grant_type redirect_uri"; strings.Join(names, " ") != want {
		t.Errorf("form order = %v, want the order sent: %s", names, want)
	}
	if want := (map[string]string{"Cache-Control": "no-store", "Content-Type": "application/json;charset=UTF-8"}); !reflect.DeepEqual(in.Response.Headers, want) {
		t.Errorf("response headers = %v, want %v", in.Response.Headers, want)
	}
	if want := `{"access_token":"<<access_token:1>>","expires_in":3600,"id_token":"<<id_token:1>>","refresh_token":"<<refresh_token:1>>","scope":"b a","token_type":"bearer"}`; string(in.Response.BodyJSON) != want {
		t.Errorf("body_json = %s, want %s", in.Response.BodyJSON, want)
	}

	// 2: refresh with Basic authentication: the refresh token of 1.
	if got := c.Interactions[1].Request.Headers["Authorization"]; got != "Basic <<basic_credentials>>" {
		t.Errorf("Authorization = %q", got)
	}
	if got := form(1)["refresh_token"]; got != "<<refresh_token:1>>" {
		t.Errorf("refresh_token = %q, want the placeholder of interaction 1", got)
	}
	if got := body(1)["access_token"]; got != "<<access_token:2>>" {
		t.Errorf("access_token = %v", got)
	}

	// 3 and 4: the tokens of 2 and 1, and the echo swept.
	if got := form(2)["token"]; got != "<<refresh_token:2>>" {
		t.Errorf("token = %q", got)
	}
	if got := body(2)["note"]; got != "introspected <<refresh_token:2>>" {
		t.Errorf("note = %v, want the echoed token swept", got)
	}
	if got := form(3)["token"]; got != "<<access_token:1>>" {
		t.Errorf("token = %q", got)
	}
	if got := string(c.Interactions[3].Response.BodyJSON); !strings.Contains(got, `"exp":1700000000`) {
		t.Errorf("body_json = %s, want the number as written", got)
	}

	// 5: Bearer header and query.
	in = c.Interactions[4]
	if got := in.Request.Headers["Authorization"]; got != "Bearer <<access_token:2>>" {
		t.Errorf("Authorization = %q", got)
	}
	if u, _ := url.Parse(in.Request.URL); u.Query().Get("access_token") != "<<access_token:2>>" || u.Query().Get("x") != "1" {
		t.Errorf("url = %q", in.Request.URL)
	}
	if in.Request.Form != nil || in.Response.Body != "hello" || in.Response.BodyJSON != nil {
		t.Errorf("interaction 5 = %+v", in)
	}

	// 6: assertion, password, and a secret in a text body.
	if got := form(5); got["assertion"] != "<<assertion>>" || got["password"] != "<<password>>" {
		t.Errorf("form = %v", got)
	}
	in = c.Interactions[5]
	if in.Response.Status != 503 || in.Response.Body != "cannot check <<client_secret>>" || in.Response.Headers["Retry-After"] != "3" {
		t.Errorf("response = %+v", in.Response)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	enc, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	validateSchema(t, enc)
	for _, leak := range []string{fakeSecret, "the-code-12345", "verifier-abcdefgh", "AT-", "RT-", "eyJ", `\u003c`} {
		if strings.Contains(string(enc), leak) {
			t.Errorf("the cassette contains %q", leak)
		}
	}
}

// TestRecordingIsReproducible records the same session twice: the
// cassettes are the same bytes, so recordings can be diffed.
func TestRecordingIsReproducible(t *testing.T) {
	var out [2][]byte
	for i := range out {
		srv := fakeServer(t)
		rec := &cassette.Recorder{SDKVersion: "0.1.0"}
		fakeSession(t, srv, &http.Client{Transport: rec.Wrap(nil)})
		c := rec.Cassette()
		for j := range c.Interactions {
			// The servers listen on different ports.
			c.Interactions[j].Request.URL = strings.Replace(c.Interactions[j].Request.URL, srv.URL, "http://server", 1)
		}
		var err error
		if out[i], err = c.Encode(); err != nil {
			t.Fatal(err)
		}
	}
	if string(out[0]) != string(out[1]) {
		t.Errorf("two recordings differ:\n%s\n%s", out[0], out[1])
	}
}

// TestSaveIsAtomic checks that Save replaces the file by rename, with
// permissions 0600 and no temporary file left, and that a failure is a
// typed storage_error.
func TestSaveIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := fakeServer(t)
	rec := &cassette.Recorder{Path: path}
	client := &http.Client{Transport: rec.Wrap(nil)}
	postForm(t, client, srv.URL+"/token", url.Values{"grant_type": {"client_credentials"}}, nil)
	if err := rec.Save(); err != nil {
		t.Fatal(err)
	}
	postForm(t, client, srv.URL+"/token", url.Values{"grant_type": {"client_credentials"}}, nil)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %v, want the cassette only", entries)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("permissions = %v, want 0600", fi.Mode().Perm())
	}
	c, err := cassette.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interactions) != 2 {
		t.Errorf("%d interactions, want 2", len(c.Interactions))
	}

	bad := &cassette.Recorder{Path: filepath.Join(dir, "missing", "c.json")}
	var oerr *oautherr.Error
	if err := bad.Save(); !errors.As(err, &oerr) || oerr.Code != "storage_error" || oerr.Op != cassette.OperationSave {
		t.Errorf("Save into a missing directory: %v, want storage_error", err)
	}
	if err := (&cassette.Recorder{}).Save(); !errors.As(err, &oerr) || oerr.Code != oautherr.CodeInvalidConfig {
		t.Errorf("Save without a path: %v, want invalid_config", err)
	}
	if _, err := cassette.Load(filepath.Join(dir, "none.json")); !errors.As(err, &oerr) || oerr.Code != oautherr.CodeInvalidConfig || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("Load of a missing file: %v, want invalid_config naming it", err)
	}
}

// matchCassette is a hand-written cassette for the matching rules.
const matchCassette = `{
  "schema_version": 1,
  "recorder": {"sdk": "python", "version": "1.0.0"},
  "interactions": [
    {
      "request": {"method": "POST", "url": "https://AS.example.com:443/token?b=2&a=1",
        "form": [{"name": "grant_type", "value": "authorization_code"}, {"name": "code", "value": "<<authorization_code:1>>"},
          {"name": "code_verifier", "value": "<<code_verifier>>"}, {"name": "redirect_uri", "value": "http://127.0.0.1:4000/cb"},
          {"name": "state", "value": "s1"}, {"name": "scope", "value": "b a"}, {"name": "client_id", "value": "app"}]},
      "response": {"status": 200, "body_json": {"access_token": "<<access_token:1>>", "token_type": "Bearer", "refresh_token": "<<refresh_token:1>>"}}
    },
    {
      "request": {"method": "POST", "url": "https://as.example.com/introspect",
        "form": [{"name": "token", "value": "<<access_token:1>>"}]},
      "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body_json": {"active": true}}
    },
    {
      "request": {"method": "POST", "url": "https://as.example.com/introspect",
        "form": [{"name": "token", "value": "<<access_token:1>>"}]},
      "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body_json": {"active": false}}
    },
    {
      "request": {"method": "GET", "url": "https://as.example.com/.well-known/oauth-authorization-server"},
      "response": {"status": 503, "headers": {"Retry-After": "7", "Cache-Control": "no-store"}, "body": "down"}
    }
  ]
}`

func newMatchReplayer(t *testing.T) *cassette.Replayer {
	t.Helper()
	c, err := cassette.Parse([]byte(matchCassette))
	if err != nil {
		t.Fatal(err)
	}
	r, err := cassette.NewReplayer(c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func replayForm(t *testing.T, r *cassette.Replayer, u string, form string) (*http.Response, string, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{Transport: r}).Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), nil
}

// TestReplayNormalisation checks what replay ignores: parameter order,
// scope order, state, PKCE values and codes, a loopback redirect port,
// host case, default port and query order.
func TestReplayNormalisation(t *testing.T) {
	r := newMatchReplayer(t)
	form := "client_id=app&scope=a+b&state=other&redirect_uri=http%3A%2F%2F127.0.0.1%3A61234%2Fcb&code_verifier=new&code=live-code&grant_type=authorization_code"
	resp, body, err := replayForm(t, r, "https://as.example.com/token?a=1&b=2", form)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || body != `{"access_token":"<<access_token:1>>","token_type":"Bearer","refresh_token":"<<refresh_token:1>>"}` {
		t.Errorf("replayed %d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json for a body_json without one", got)
	}

	// Equal matches are used in order, once each.
	for _, want := range []string{`{"active":true}`, `{"active":false}`} {
		_, body, err := replayForm(t, r, "https://as.example.com/introspect", "token=%3C%3Caccess_token%3A1%3E%3E")
		if err != nil || body != want {
			t.Errorf("introspection = %s, %v; want %s", body, err, want)
		}
	}

	resp, err = (&http.Client{Transport: r}).Get("https://as.example.com/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Status != "503 Service Unavailable" || string(b) != "down" || resp.Header.Get("Retry-After") != "7" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("replayed %s %v %q", resp.Status, resp.Header, b)
	}
	if u := r.Unused(); len(u) != 0 {
		t.Errorf("unused = %v", u)
	}
}

// TestReplayDifferences checks the closest interaction and the
// differences that an unmatched request reports.
func TestReplayDifferences(t *testing.T) {
	full := "client_id=app&scope=a+b&redirect_uri=http%3A%2F%2F127.0.0.1%3A4000%2Fcb&code_verifier=v&code=c&grant_type=authorization_code&state=x"
	tests := []struct {
		name, method, url, form string
		closest                 int
		want                    []string
	}{
		{"missing parameter", "POST", "https://as.example.com/token?a=1&b=2", strings.Replace(full, "&code_verifier=v", "", 1), 1,
			[]string{`form parameter "code_verifier" is missing`}},
		{"extra parameter", "POST", "https://as.example.com/token?a=1&b=2", full + "&resource=x", 1,
			[]string{`form parameter "resource" was not recorded (got "x")`}},
		{"other client", "POST", "https://as.example.com/token?a=1&b=2", strings.Replace(full, "client_id=app", "client_id=other", 1), 1,
			[]string{`form parameter "client_id": recorded "app", got "other"`}},
		{"other path", "POST", "https://as.example.com/revoke", "token=%3C%3Caccess_token%3A1%3E%3E", 2,
			[]string{`URL: recorded "https://as.example.com/introspect", got "https://as.example.com/revoke"`}},
		{"other query", "POST", "https://as.example.com/token?a=1", full, 1,
			[]string{`URL query: recorded "a=1&b=2", got "a=1"`}},
		{"other token", "POST", "https://as.example.com/introspect", "token=%3C%3Caccess_token%3A2%3E%3E", 2,
			[]string{`form parameter "token": recorded "<<access_token:1>>", got "<<access_token:2>>"`}},
		{"other method", "DELETE", "https://as.example.com/.well-known/oauth-authorization-server", "", 4,
			[]string{`method: recorded GET, got DELETE`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newMatchReplayer(t)
			req, _ := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.form))
			if tt.form != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			_, err := r.RoundTrip(req)
			var u *cassette.UnmatchedError
			if !errors.As(err, &u) {
				t.Fatalf("err = %v, want *UnmatchedError", err)
			}
			if u.Closest != tt.closest || !reflect.DeepEqual(u.Differences, tt.want) {
				t.Errorf("closest %d, differences %q; want %d, %q", u.Closest, u.Differences, tt.closest, tt.want)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("closest is interaction %d", tt.closest)) {
				t.Errorf("message %q", err)
			}
			if u := r.Unused(); len(u) != 4 {
				t.Errorf("an unmatched request used an interaction: unused %v", u)
			}
		})
	}

	empty, err := cassette.NewReplayer(&cassette.Cassette{SchemaVersion: 1, Recorder: cassette.RecorderInfo{SDK: "go", Version: "1"}, Interactions: []cassette.Interaction{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = empty.RoundTrip(httptest.NewRequest(http.MethodGet, "https://as.example.com/", nil))
	var u *cassette.UnmatchedError
	if !errors.As(err, &u) || u.Closest != 0 || !strings.Contains(err.Error(), "the cassette has no interactions") {
		t.Errorf("err = %v", err)
	}

	// A canceled request is refused before matching and uses nothing.
	r := newMatchReplayer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://as.example.com/.well-known/oauth-authorization-server", nil)
	if _, err := r.RoundTrip(req); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if len(r.Unused()) != 4 {
		t.Error("a canceled request used an interaction")
	}
}

// TestConcurrentRecordAndReplay records and replays from many goroutines
// at once (run with -race): every exchange is recorded once, and every
// recorded exchange is replayed once.
func TestConcurrentRecordAndReplay(t *testing.T) {
	srv := fakeServer(t)
	rec := &cassette.Recorder{}
	client := &http.Client{Transport: rec.Wrap(nil)}
	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := client.PostForm(srv.URL+"/token", url.Values{"grant_type": {"client_credentials"}, "client_secret": {fakeSecret}})
			if err != nil {
				t.Error(err)
				return
			}
			io.ReadAll(resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
	c := rec.Cassette()
	if len(c.Interactions) != n {
		t.Fatalf("%d interactions, want %d", len(c.Interactions), n)
	}
	r, err := cassette.NewReplayer(c)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, n)
	for range n {
		wg.Go(func() {
			resp, err := (&http.Client{Transport: r}).PostForm(srv.URL+"/token", url.Values{"grant_type": {"client_credentials"}, "client_secret": {"x"}})
			if err != nil {
				t.Error(err)
				seen <- ""
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			seen <- string(b)
		})
	}
	wg.Wait()
	close(seen)
	distinct := map[string]bool{}
	for b := range seen {
		distinct[b] = true
	}
	if len(distinct) != n || len(r.Unused()) != 0 {
		t.Errorf("%d distinct responses and unused %v, want %d and none", len(distinct), r.Unused(), n)
	}
}

func TestPlaceholder(t *testing.T) {
	for kind, want := range map[string]string{
		cassette.KindAccessToken:       "<<access_token:3>>",
		cassette.KindAuthorizationCode: "<<authorization_code:3>>",
		cassette.KindClientSecret:      "<<client_secret>>",
		cassette.KindBasicCredentials:  "<<basic_credentials>>",
	} {
		if got := cassette.Placeholder(kind, 3); got != want || !cassette.IsPlaceholder(got) {
			t.Errorf("Placeholder(%s, 3) = %q, want %q", kind, got, want)
		}
	}
	for _, s := range []string{"", "<<>>", "<<Access>>", "<<a:0>>", "x<<a>>", "<<a:1>>x", "<<a:b>>"} {
		if cassette.IsPlaceholder(s) {
			t.Errorf("IsPlaceholder(%q) = true", s)
		}
	}
}

// idleCloser counts CloseIdleConnections calls.
type idleCloser struct {
	http.RoundTripper
	closed atomic.Int32
}

func (c *idleCloser) CloseIdleConnections() { c.closed.Add(1) }

// TestRecorderClosesIdleConnections checks that closing an HTTP client
// that records reaches the wrapped transport.
func TestRecorderClosesIdleConnections(t *testing.T) {
	base := &idleCloser{RoundTripper: http.DefaultTransport}
	client := &http.Client{Transport: (&cassette.Recorder{}).Wrap(base)}
	client.CloseIdleConnections()
	if base.closed.Load() != 1 {
		t.Error("CloseIdleConnections did not reach the wrapped transport")
	}
}
