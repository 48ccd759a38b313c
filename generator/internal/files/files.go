// Package files holds the in-memory output of the generator.
package files

// File is one generated file.
type File struct {
	// Path is slash-separated and relative to the output root, starting
	// with the language folder: "python/pyproject.toml".
	Path    string
	Content []byte
}
