// Package spec embeds the product spec and its JSON Schema.
package spec

import _ "embed"

// Name is the embedded spec's file name, used in messages.
const Name = "spec/security.yaml"

// Security is the product spec that `coyotegen generate` uses when no
// --spec is given.
//
//go:embed security.yaml
var Security []byte

// Schema is the JSON Schema of the spec format.
//
//go:embed schema.json
var Schema []byte
