package model

import (
	"regexp"
	"strings"
)

// Names is one identifier spelled the way each language wants it.
type Names struct {
	Snake      string // client_id (Python members, C++ members and functions, YAML)
	UpperSnake string // CLIENT_ID (Python enum members and constants)
	Camel      string // clientId (TypeScript members and functions)
	Pascal     string // ClientId (C# members, TypeScript and C++ types)
	Go         string // ClientID (exported Go)
	GoLower    string // clientID (unexported Go)
	Kebab      string // client-id
}

// goInitialisms are the words Go spells in capitals (Effective Go, golint).
var goInitialisms = map[string]bool{
	"api": true, "ca": true, "http": true, "https": true, "id": true, "iss": true, "json": true,
	"jwt": true, "ms": true, "mtls": true, "oidc": true, "pkce": true, "ssl": true, "tls": true,
	"ttl": true, "uri": true, "url": true, "yaml": true,
}

var algorithmWord = regexp.MustCompile(`^[a-z]{2}[0-9]+$`)
var wordSplit = regexp.MustCompile(`[^A-Za-z0-9]+`)

// words splits an identifier such as "client_id" or "RS256" into lower-case words.
func words(s string) []string {
	var out []string
	for _, w := range wordSplit.Split(s, -1) {
		if w != "" {
			out = append(out, strings.ToLower(w))
		}
	}
	return out
}

// NewNames spells the identifier s in every language's style.
func NewNames(s string) Names {
	ws := words(s)
	var n Names
	n.Snake = strings.Join(ws, "_")
	n.UpperSnake = strings.ToUpper(n.Snake)
	n.Kebab = strings.Join(ws, "-")
	var pascal, goName strings.Builder
	for _, w := range ws {
		title := strings.ToUpper(w[:1]) + w[1:]
		if algorithmWord.MatchString(w) {
			title = strings.ToUpper(w)
		}
		pascal.WriteString(title)
		if goInitialisms[w] || algorithmWord.MatchString(w) {
			goName.WriteString(strings.ToUpper(w))
		} else {
			goName.WriteString(title)
		}
	}
	n.Pascal = pascal.String()
	n.Go = goName.String()
	if len(ws) > 0 {
		n.Camel = ws[0] + strings.TrimPrefix(n.Pascal, strings.ToUpper(ws[0][:1])+ws[0][1:])
		if algorithmWord.MatchString(ws[0]) {
			n.Camel = ws[0] + strings.TrimPrefix(n.Pascal, strings.ToUpper(ws[0]))
		}
		first := ws[0]
		rest := strings.TrimPrefix(n.Go, goFirst(first))
		n.GoLower = first + rest
	}
	return n
}

func goFirst(w string) string {
	if goInitialisms[w] || algorithmWord.MatchString(w) {
		return strings.ToUpper(w)
	}
	return strings.ToUpper(w[:1]) + w[1:]
}
