package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewNames(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Names
	}{
		{"client_id", Names{Snake: "client_id", UpperSnake: "CLIENT_ID", Camel: "clientId", Pascal: "ClientId", Go: "ClientID", GoLower: "clientID", Kebab: "client-id"}},
		{"timeout_ms", Names{Snake: "timeout_ms", UpperSnake: "TIMEOUT_MS", Camel: "timeoutMs", Pascal: "TimeoutMs", Go: "TimeoutMS", GoLower: "timeoutMS", Kebab: "timeout-ms"}},
		{"jwt_issuer", Names{Snake: "jwt_issuer", UpperSnake: "JWT_ISSUER", Camel: "jwtIssuer", Pascal: "JwtIssuer", Go: "JWTIssuer", GoLower: "jwtIssuer", Kebab: "jwt-issuer"}},
		{"RS256", Names{Snake: "rs256", UpperSnake: "RS256", Camel: "rs256", Pascal: "RS256", Go: "RS256", GoLower: "rs256", Kebab: "rs256"}},
		{"urn:ietf:params", Names{Snake: "urn_ietf_params", UpperSnake: "URN_IETF_PARAMS", Camel: "urnIetfParams", Pascal: "UrnIetfParams", Go: "UrnIetfParams", GoLower: "urnIetfParams", Kebab: "urn-ietf-params"}},
	} {
		if diff := cmp.Diff(tc.want, NewNames(tc.in)); diff != "" {
			t.Errorf("NewNames(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}
