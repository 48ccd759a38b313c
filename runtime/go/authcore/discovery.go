package authcore

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/coyotesense/coyotegen/runtime/go/oautherr"
)

// metadata is the part of the authorization server metadata (RFC 8414
// section 2, OpenID Connect Discovery 1.0 section 3) the client uses.
type metadata struct {
	Issuer                string `json:"issuer"`
	TokenEndpoint         string `json:"token_endpoint"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	RevocationEndpoint    string `json:"revocation_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
}

// wellKnown are the metadata documents tried in order (RFC 8414 section
// 3, then OpenID Connect discovery).
var wellKnown = []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}

// discover reads the metadata of the server at serverURL.
func discover(ctx context.Context, hc *http.Client, serverURL string) (*metadata, error) {
	if serverURL == "" {
		return nil, &oautherr.Error{Op: "discovery", Code: oautherr.CodeInvalidConfig, Description: "token_url is not set and there is no server_url to discover it from"}
	}
	base := strings.TrimRight(serverURL, "/")
	var last error
	for _, path := range wellKnown {
		md, err := fetchMetadata(ctx, hc, base+path)
		if err == nil {
			if md.TokenEndpoint == "" {
				return nil, &oautherr.Error{Op: "discovery", Code: oautherr.CodeInvalidResponse, Description: base + path + " has no token_endpoint"}
			}
			return md, nil
		}
		last = err
	}
	return nil, last
}

func fetchMetadata(ctx context.Context, hc *http.Client, u string) (*metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &oautherr.Error{Op: "discovery", Code: oautherr.CodeInvalidConfig, Description: "server_url: " + err.Error(), Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &oautherr.Error{Op: "discovery", Code: oautherr.CodeNetworkError, Description: "metadata request failed", Retryable: true, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &oautherr.Error{Op: "discovery", Code: oautherr.CodeNetworkError, Description: "metadata response could not be read", Retryable: true, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &oautherr.Error{Op: "discovery", Code: oautherr.CodeInvalidResponse, StatusCode: resp.StatusCode, Description: fmt.Sprintf("%s answered HTTP %d", u, resp.StatusCode), Retryable: resp.StatusCode >= 500}
	}
	var md metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, &oautherr.Error{Op: "discovery", Code: oautherr.CodeInvalidResponse, StatusCode: resp.StatusCode, Description: u + " is not a JSON metadata document", Err: err}
	}
	return &md, nil
}
