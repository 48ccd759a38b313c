package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/coyotesense/coyotegen/out/go/security"
	"github.com/coyotesense/coyotegen/runtime/go/configload"
	"github.com/coyotesense/coyotegen/runtime/go/secret"
	"github.com/spf13/cobra"
)

// maxSecretFileSize bounds what --client-secret-file reads: a client secret
// is a few dozen bytes, and a mistyped path to a large file should fail
// rather than be sent to the authorization server.
const maxSecretFileSize = 64 << 10

// tokenFlags are the values of the token command's flags; tokenCmd.run
// reads only the ones the user set (cmd.Flags().Changed), so that a flag
// given overrides the environment and the file, and a flag left out does
// not.
type tokenFlags struct {
	config           string
	serverURL        string
	clientID         string
	clientSecretFile string
	clientSecretEnv  string
	flow             string
	clientAuthMethod string
	scopes           []string
	mode             string
	cassette         string
	json             bool
	header           bool
}

func newTokenCmd() *cobra.Command {
	var f tokenFlags
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print an access token from the configured authorization server",
		Long: `Token obtains an access token with the generated Go client
(out/go/security) and prints it on standard output: the bare token by
default, an "Authorization: Bearer ..." header line with --header, or a
JSON object with the token's metadata with --json.

Configuration comes from, highest precedence first: the flags below, the
COYOTE_AUTH_* environment variables, the "authentication:" section of the
--config file, and the spec's defaults. --server-url alone is enough to
find the endpoints: they are discovered from the server's metadata
(RFC 8414) unless token_url is configured.

The client secret is never taken from the command line, where other users
can read it in the process list and where it stays in shell history and
CI logs. Give it in COYOTE_AUTH_CLIENT_SECRET, in another variable named
by --client-secret-env, in a file named by --client-secret-file ("-" reads
standard input; surrounding white space is trimmed), or in the --config
file.

The runtime mode is --mode, else the MODE environment variable, else the
mode: key of the --config file, else real; the modes: section of the file
holds the modes' options, and --cassette names the cassette of record and
replay. Tokens
are never revoked when the command exits, whatever revoke_on_close says:
the point of the command is to hand the token out.

--json prints
  {"access_token", "token_type", "expires_at" (RFC 3339, UTC, or null),
   "expires_in" (whole seconds left, or null), "scope" (list),
   "has_refresh_token"}
and never the refresh or ID token.

Exit codes: 0 the token was printed; 1 the token request failed, with the
OAuth error code and description on standard error (invalid_client,
invalid_scope, login_required, network_error, ...); 2 usage error: a bad
flag or flag value, or a configuration problem (each is named); 3 the
--config or --client-secret-file file could not be read.`,
		Example: `  coyotegen token --config auth.yaml
  COYOTE_AUTH_CLIENT_SECRET=... coyotegen token --server-url https://auth.example.com --client-id trading-bot --scope trading
  vault kv get -field=secret kv/bot | coyotegen token --config auth.yaml --client-secret-file - --header
  MODE=mock coyotegen token --config auth.yaml --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runToken(cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "YAML file whose authentication: section configures the client")
	fl.StringVar(&f.serverURL, "server-url", "", "base URL of the authorization server; endpoints are discovered from it (overrides COYOTE_AUTH_SERVER_URL)")
	fl.StringVar(&f.clientID, "client-id", "", "OAuth2 client identifier (overrides COYOTE_AUTH_CLIENT_ID)")
	fl.StringVar(&f.clientSecretFile, "client-secret-file", "", `file holding the client secret, "-" for standard input`)
	fl.StringVar(&f.clientSecretEnv, "client-secret-env", "", "environment variable holding the client secret, instead of COYOTE_AUTH_CLIENT_SECRET")
	fl.StringVar(&f.flow, "flow", "", "authentication flow, an auth_mode value: "+quoteList(security.AuthModeValues())+" (overrides COYOTE_AUTH_MODE)")
	fl.StringVar(&f.clientAuthMethod, "client-auth-method", "", "client authentication at the token endpoint: "+quoteList(security.ClientAuthMethodValues())+" (overrides COYOTE_AUTH_CLIENT_AUTH_METHOD)")
	fl.StringArrayVar(&f.scopes, "scope", nil, "scope to request; repeatable, or comma or space separated (overrides default_scopes)")
	fl.StringVar(&f.mode, "mode", "", "runtime mode: "+quoteList(runtimeModes)+" (overrides "+security.ModeEnv+"; default real)")
	fl.StringVar(&f.cassette, "cassette", "", "cassette file of --mode record and replay")
	fl.BoolVar(&f.json, "json", false, "print the token and its metadata as JSON")
	fl.BoolVar(&f.header, "header", false, `print "Authorization: <type> <token>"`)
	cmd.MarkFlagsMutuallyExclusive("json", "header")
	cmd.MarkFlagsMutuallyExclusive("client-secret-file", "client-secret-env")
	return cmd
}

// runtimeModes are the modes --mode accepts, in the spec's order.
var runtimeModes = []security.Mode{security.ModeReal, security.ModeMock, security.ModeDebug, security.ModeRecord, security.ModeReplay, security.ModeSimulation}

func runToken(cmd *cobra.Command, f *tokenFlags) error {
	changed := cmd.Flags().Changed
	lookup := configload.EnvLookup()

	cfg, err := tokenConfig(cmd, f, lookup)
	if err != nil {
		return err
	}
	mode, modeOptions, err := tokenMode(f, changed("mode"), lookup)
	if err != nil {
		return err
	}
	if changed("cassette") {
		if mode != security.ModeRecord && mode != security.ModeReplay {
			return usageError("--cassette is used only in mode %q or %q, not %q", security.ModeRecord, security.ModeReplay, mode)
		}
		modeOptions.Record.CassettePath = f.cassette
		modeOptions.Replay.CassettePath = f.cassette
	}

	client, err := security.New(cfg, security.WithMode(mode), security.WithModeOptions(modeOptions))
	if err != nil {
		return tokenError(err)
	}
	tok, err := client.Token(cmd.Context())
	// Close before printing: in record mode it writes the cassette, and a
	// script must not get a token with a failure exit code.
	closeErr := client.Close()
	if err != nil {
		return tokenError(err)
	}
	if closeErr != nil {
		return tokenError(closeErr)
	}

	out := cmd.OutOrStdout()
	switch {
	case f.json:
		err = writeTokenJSON(out, tok, time.Now())
	case f.header:
		_, err = fmt.Fprintf(out, "Authorization: %s\n", tok.AuthorizationHeader())
	default:
		_, err = fmt.Fprintln(out, tok.AccessToken.Reveal())
	}
	if err != nil {
		return &exitError{code: ExitIO, err: err}
	}
	return nil
}

// tokenConfig builds the client configuration: the defaults, overlaid by
// the --config file, then by the COYOTE_AUTH_* variables (this is what
// security.LoadConfig does, done in steps so that an unreadable file exits
// 3 and a bad value exits 2), then by the flags.
func tokenConfig(cmd *cobra.Command, f *tokenFlags, lookup configload.Lookup) (security.Config, error) {
	changed := cmd.Flags().Changed
	cfg := security.DefaultConfig()
	if f.config != "" {
		data, err := os.ReadFile(f.config)
		if err != nil {
			return cfg, &exitError{code: ExitIO, err: fmt.Errorf("read --config: %w", err)}
		}
		if err := cfg.ApplyYAML(data, f.config); err != nil {
			return cfg, &exitError{code: ExitUsage, err: err}
		}
	}
	if err := cfg.ApplyEnv(lookup); err != nil {
		return cfg, &exitError{code: ExitUsage, err: err}
	}

	if changed("server-url") {
		cfg.ServerURL = f.serverURL
	}
	if changed("client-id") {
		cfg.ClientID = f.clientID
	}
	if changed("flow") {
		if !security.AuthMode(f.flow).Valid() {
			return cfg, usageError("unknown --flow %q: want one of %s", f.flow, quoteList(security.AuthModeValues()))
		}
		cfg.AuthMode = security.AuthMode(f.flow)
	}
	if changed("client-auth-method") {
		if !security.ClientAuthMethod(f.clientAuthMethod).Valid() {
			return cfg, usageError("unknown --client-auth-method %q: want one of %s", f.clientAuthMethod, quoteList(security.ClientAuthMethodValues()))
		}
		cfg.ClientAuthMethod = security.ClientAuthMethod(f.clientAuthMethod)
	}
	if changed("scope") {
		var scopes []string
		for _, s := range f.scopes {
			scopes = append(scopes, configload.SplitList(s)...)
		}
		cfg.DefaultScopes = scopes
	}
	switch {
	case changed("client-secret-env"):
		v, ok := lookup(f.clientSecretEnv)
		if !ok {
			return cfg, usageError("--client-secret-env: environment variable %q is not set or empty", f.clientSecretEnv)
		}
		cfg.ClientSecret = secret.Secret(v)
	case changed("client-secret-file"):
		s, err := readSecretFile(f.clientSecretFile, cmd.InOrStdin())
		if err != nil {
			return cfg, err
		}
		cfg.ClientSecret = s
	}
	// The token is handed out; revoking it when the client closes at exit
	// would make it useless.
	cfg.RevokeOnClose = false
	if err := cfg.Validate(); err != nil {
		return cfg, &exitError{code: ExitUsage, err: err}
	}
	return cfg, nil
}

// readSecretFile reads the client secret from path, or from stdin when path
// is "-", trimming the white space around it. Errors name the file, never
// its content.
func readSecretFile(path string, stdin io.Reader) (secret.Secret, error) {
	name := path
	var r io.Reader
	if path == "-" {
		name, r = "standard input", stdin
	} else {
		file, err := os.Open(path)
		if err != nil {
			return "", &exitError{code: ExitIO, err: fmt.Errorf("read --client-secret-file: %w", err)}
		}
		defer file.Close()
		r = file
	}
	data, err := io.ReadAll(io.LimitReader(r, maxSecretFileSize+1))
	if err != nil {
		return "", &exitError{code: ExitIO, err: fmt.Errorf("read --client-secret-file %s: %w", name, err)}
	}
	if len(data) > maxSecretFileSize {
		return "", usageError("--client-secret-file %s is larger than %d bytes: want a file holding only the secret", name, maxSecretFileSize)
	}
	s := strings.TrimSpace(string(data))
	if s == "" {
		return "", usageError("--client-secret-file %s is empty", name)
	}
	return secret.Secret(s), nil
}

// tokenMode returns the runtime mode and the modes' options: --mode, else
// MODE, else the mode: key of --config, else real; the options from the
// modes: section of --config over their defaults.
func tokenMode(f *tokenFlags, set bool, lookup configload.Lookup) (security.Mode, security.ModeOptions, error) {
	mode, opts, err := security.LoadModeConfig(f.config, lookup)
	if err != nil {
		return "", opts, &exitError{code: ExitUsage, err: err}
	}
	if !set {
		return mode, opts, nil
	}
	for _, m := range runtimeModes {
		if string(m) == f.mode {
			return m, opts, nil
		}
	}
	return "", opts, usageError("unknown --mode %q: want one of %s", f.mode, quoteList(runtimeModes))
}

// tokenJSON is what --json prints. Only the access token is revealed.
type tokenJSON struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	// ExpiresAt is RFC 3339 in UTC; null when the server gave no lifetime.
	ExpiresAt *string `json:"expires_at"`
	// ExpiresIn is the number of whole seconds left at the time of
	// printing (a token from storage may be older than the request);
	// null when the server gave no lifetime.
	ExpiresIn       *int64   `json:"expires_in"`
	Scope           []string `json:"scope"`
	HasRefreshToken bool     `json:"has_refresh_token"`
}

func writeTokenJSON(w io.Writer, tok *security.Token, now time.Time) error {
	out := tokenJSON{
		AccessToken:     tok.AccessToken.Reveal(),
		TokenType:       tok.TokenType,
		Scope:           tok.Scopes,
		HasRefreshToken: !tok.RefreshToken.IsZero(),
	}
	if out.Scope == nil {
		out.Scope = []string{}
	}
	if !tok.ExpiresAt.IsZero() {
		at := tok.ExpiresAt.UTC().Format(time.RFC3339)
		in := int64(max(tok.ExpiresAt.Sub(now), 0) / time.Second)
		out.ExpiresAt, out.ExpiresIn = &at, &in
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// tokenError maps an error of the generated package to an exit code: a
// configuration problem is a usage error (2); an *Error, from the server
// or the runtime, exits 1 and shows its code and description.
func tokenError(err error) error {
	var cfgErr *configload.Error
	if errors.As(err, &cfgErr) {
		return &exitError{code: ExitUsage, err: err}
	}
	var e *security.Error
	if !errors.As(err, &e) {
		return &exitError{code: ExitProblem, err: err}
	}
	return &exitError{code: ExitProblem, err: errors.New(describeOAuthError(e))}
}

// describeOAuthError spells an *Error for an operator:
//
//	invalid_client: Client authentication failed (HTTP 401) (in get_valid_token)
//
// with the server's Retry-After and error_uri, the operation, and the
// cause, when there are any. None of these carry a secret or a token.
func describeOAuthError(e *security.Error) string {
	var b strings.Builder
	code := e.Code
	if code == "" {
		code = "error"
	}
	b.WriteString(code)
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.URI != "" {
		fmt.Fprintf(&b, " (see %s)", e.URI)
	}
	if e.Op != "" {
		fmt.Fprintf(&b, " (in %s)", e.Op)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// quoteList spells allowed values as `"a", "b", "c"` for messages.
func quoteList[T ~string](values []T) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
