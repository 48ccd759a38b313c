package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunPrintsURLAndServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	keysDir := t.TempDir()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-access-token-lifespan", "2m", "-refresh-token-lifespan", "1h", "-keys-dir", keysDir}, pw, io.Discard)
		pw.Close()
	}()

	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSpace(line)
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("first line = %q, want the server URL", line)
	}
	resp, err := http.Get(base + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Issuer string `json:"issuer"`
	}
	err = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if err != nil || meta.Issuer != base {
		t.Errorf("issuer = %q, %v; want %q", meta.Issuer, err, base)
	}

	if _, err := os.Stat(filepath.Join(keysDir, "rsa-pkcs8.pem")); err != nil {
		t.Errorf("test keys not written: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run() = %v after cancellation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run() did not return after cancellation")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	if err := run(context.Background(), []string{"-addr", "0.0.0.0:0"}, io.Discard, io.Discard); err == nil {
		t.Error("run accepted a non-loopback address")
	}
	if err := run(context.Background(), []string{"-keys-dir", filepath.Join(t.TempDir(), "missing")}, io.Discard, io.Discard); err == nil {
		t.Error("run accepted a missing keys directory")
	}
	if err := run(context.Background(), []string{"-nope"}, io.Discard, io.Discard); err == nil {
		t.Error("run accepted an unknown flag")
	}
}
