package runner_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// fakeDriverEnv makes the test binary act as a broken driver instead of
// running the tests; its value says how it is broken.
const fakeDriverEnv = "COYOTE_RUNNER_FAKE_DRIVER"

func TestMain(m *testing.M) {
	if kind := os.Getenv(fakeDriverEnv); kind != "" {
		os.Exit(fakeDriver(kind))
	}
	os.Exit(m.Run())
}

// fakeDriver answers hello like a driver, then:
//   - "not_implemented": fails every other command with not_implemented,
//     as an SDK without the feature would;
//   - "garbage": writes a line that is not JSON;
//   - "exit": exits without answering.
func fakeDriver(kind string) int {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var req struct {
			ID  int64  `json:"id"`
			Cmd string `json:"cmd"`
		}
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			return 1
		}
		switch {
		case req.Cmd == "hello":
			fmt.Printf(`{"id":%d,"ok":true,"language":"fake","sdk_version":"0","protocol":1}`+"\n", req.ID)
		case req.Cmd == "shutdown":
			fmt.Printf(`{"id":%d,"ok":true}`+"\n", req.ID)
			return 0
		case kind == "garbage":
			fmt.Println("token fetched!")
		case kind == "exit":
			return 3
		default:
			fmt.Printf(`{"id":%d,"ok":false,"error":{"code":"not_implemented","description":"fake","retryable":false,"status":0}}`+"\n", req.ID)
		}
	}
	return 0
}
