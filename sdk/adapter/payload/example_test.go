package payload_test

import (
	"fmt"

	"github.com/claude-mem/claude-mem-server/sdk/adapter/payload"
)

func Example() {
	o, reason := payload.Parse([]byte(`{"sessionId":"s1","tool_name":7,"tool_input":{ "path" : "a.go" }}`), "payload")
	if reason != "" {
		fmt.Println("rejected:", reason)
		return
	}
	session, _ := o.Str("session_id", "sessionId")
	fmt.Println(session)
	_, reason = o.Str("tool_name")
	fmt.Println(reason)
	fmt.Println(string(o.JSON("tool_input")))

	_, reason = payload.Parse([]byte(`[]`), "payload")
	fmt.Println(reason)
	// Output:
	// s1
	// tool_name must be a string, got a number
	// {"path":"a.go"}
	// payload is not a JSON object, got an array
}
