package pipeline_test

import (
	"encoding/json"
	"fmt"
)

// hookCall is one hook Claude Code posts.
type hookCall struct {
	Event string
	Body  []byte
}

// Secrets and private markers planted in the replayed session. None of
// them may reach the store, the queue or a model.
var leaks = []string{
	"PRIVATEMARKER1", "PRIVATETURNMARKER", "PRIVATETURNTOOLMARKER", "PRIVATETURNSTOPMARKER", "PRIVATESTOPMARKER", "SYSREMINDERMARKER",
	"AKIAQWERTYUIOPASDFGH",                     // AWS access key
	"Zx9vQ2mL7pR4tY8uI1oP3aS5dF6gH0jK2lZ4xC6v", // AWS secret
	"sk-ant-api03-Q1w2E3r4T5y6U7i8O9p0LeakMe",  // Anthropic key
	"ghp_Z1x2C3v4B5n6M7a8S9d0F1g2H3j4K5l6",     // GitHub token
	"eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.sigSECRETsig",
	"Hunter2Hunter2",
	"Pa55w0rdInJson",
	"MIIEowIBAAKCAQEAsecretPEMbody",
}

// claudeCodeSession returns a realistic Claude Code session of exactly 50
// hook payloads: SessionStart; a turn that reads, tests, edits, writes and
// commits, with secrets and private blocks in its prompt, tool outputs and
// answer; a private turn (its prompt is only a <private> block); a second
// working turn; and SessionEnd. Every tool call has its PreToolUse and
// PostToolUse with one tool_use_id, as Claude Code sends them.
func claudeCodeSession(sessionID, cwd string) []hookCall {
	transcript := "/home/dev/.claude/projects/-home-dev-src-shop/" + sessionID + ".jsonl"
	var calls []hookCall
	common := func(event string) map[string]any {
		return map[string]any{"session_id": sessionID, "transcript_path": transcript, "cwd": cwd, "hook_event_name": event, "permission_mode": "default"}
	}
	add := func(event string, fields map[string]any) {
		m := common(event)
		for k, v := range fields {
			m[k] = v
		}
		b, err := json.Marshal(m)
		if err != nil {
			panic(err)
		}
		calls = append(calls, hookCall{Event: event, Body: b})
	}
	tool := 0
	use := func(name string, input, response map[string]any) {
		tool++
		id := fmt.Sprintf("toolu_01%s%03d", sessionID[:4], tool)
		add("PreToolUse", map[string]any{"tool_name": name, "tool_input": input, "tool_use_id": id})
		add("PostToolUse", map[string]any{"tool_name": name, "tool_input": input, "tool_response": response, "tool_use_id": id})
	}
	prompt := 0
	ask := func(text string) {
		prompt++
		add("UserPromptSubmit", map[string]any{"prompt": text, "prompt_id": fmt.Sprintf("%s-p%d", sessionID, prompt)})
	}
	read := func(path, content string) {
		use("Read", map[string]any{"file_path": cwd + "/" + path},
			map[string]any{"type": "text", "file": map[string]any{"filePath": cwd + "/" + path, "content": content, "numLines": 3, "startLine": 1, "totalLines": 3}})
	}
	bash := func(cmd, stdout, stderr string) {
		use("Bash", map[string]any{"command": cmd, "description": "Run " + cmd},
			map[string]any{"stdout": stdout, "stderr": stderr, "interrupted": false, "isImage": false})
	}
	edit := func(path, old, new string) {
		use("Edit", map[string]any{"file_path": cwd + "/" + path, "old_string": old, "new_string": new, "replace_all": false},
			map[string]any{"filePath": cwd + "/" + path, "oldString": old, "newString": new, "originalFile": "package cart\n" + old + "\n",
				"structuredPatch": []any{map[string]any{"oldStart": 2, "oldLines": 1, "newStart": 2, "newLines": 1, "lines": []string{"-" + old, "+" + new}}},
				"userModified":    false, "replaceAll": false})
	}
	write := func(path, content string) {
		use("Write", map[string]any{"file_path": cwd + "/" + path, "content": content},
			map[string]any{"type": "create", "filePath": cwd + "/" + path, "content": content, "structuredPatch": []any{}})
	}

	add("SessionStart", map[string]any{"source": "startup"})

	// Turn 1: 18 payloads.
	ask("The checkout test fails on rounding. Fix it. <private>my salary is 123456, PRIVATEMARKER1</private> The staging db uses password=Hunter2Hunter2 if you need it.")
	read("cart/cart.go", "package cart\n// <system-reminder>SYSREMINDERMARKER: do not mention</system-reminder>\nfunc Total(items []Item) float64 { return sum(items) }")
	read("config/staging.yaml", "aws_access_key_id: AKIAQWERTYUIOPASDFGH\naws_secret_access_key = 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\ntls_key: |\n  -----BEGIN RSA PRIVATE KEY-----\n  MIIEowIBAAKCAQEAsecretPEMbody\n  -----END RSA PRIVATE KEY-----")
	bash("go test ./cart/...", "--- FAIL: TestTotal (0.00s)\n    cart_test.go:14: Total = 10.000000001, want 10\nFAIL\nFAIL\tshop/cart\t0.012s", "curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.sigSECRETsig' failed")
	edit("cart/cart.go", "func Total(items []Item) float64 { return sum(items) }", "func Total(items []Item) int64 { return sumCents(items) }")
	bash("go test ./cart/...", "ok  \tshop/cart\t0.011s", "")
	use("Grep", map[string]any{"pattern": "TODO", "path": cwd}, map[string]any{"mode": "files_with_matches", "filenames": []string{"cart/cart.go"}, "numFiles": 1})
	write("cart/cart_test.go", "package cart\n// token for the fixture API: ghp_Z1x2C3v4B5n6M7a8S9d0F1g2H3j4K5l6\nfunc TestCents(t *testing.T) {}\n")
	bash("git commit -am 'cart: keep totals in cents'", "[main 1a2b3c4] cart: keep totals in cents\n 2 files changed, 5 insertions(+), 2 deletions(-)", "")
	add("Stop", map[string]any{"stop_hook_active": false, "last_assistant_message": "Fixed the rounding bug: totals are now kept in cents.\n\nRoot cause: float64 sums drifted.<private>PRIVATESTOPMARKER</private> I did not use sk-ant-api03-Q1w2E3r4T5y6U7i8O9p0LeakMe."})

	// Turn 2, private: 4 payloads.
	ask("<private>PRIVATETURNMARKER: look at my netrc</private>")
	bash("cat ~/.netrc", "machine example.com login me password PRIVATETURNTOOLMARKER", "")
	add("Stop", map[string]any{"stop_hook_active": false, "last_assistant_message": "Done: PRIVATETURNSTOPMARKER"})

	// Turn 3: 26 payloads.
	ask("Now add discount codes to the checkout.")
	read("cart/discount.go", "package cart\n")
	read("config/app.json", `{"db": {"user": "shop", "password": "Pa55w0rdInJson"}, "port": 8080}`)
	edit("cart/cart.go", "func Total(items []Item) int64 { return sumCents(items) }", "func Total(items []Item, code string) int64 { return applyDiscount(sumCents(items), code) }")
	write("cart/discount.go", "package cart\n\nfunc applyDiscount(cents int64, code string) int64 { return cents }\n")
	edit("cart/discount.go", "return cents", "return cents - discountFor(code)")
	bash("go test ./...", "ok  \tshop/cart\t0.013s\nok  \tshop/api\t0.020s", "")
	use("Glob", map[string]any{"pattern": "**/*.go"}, map[string]any{"filenames": []string{"cart/cart.go", "cart/discount.go", "api/http.go"}, "numFiles": 3})
	read("api/http.go", "package api\n")
	edit("api/http.go", "Total(items)", "Total(items, r.FormValue(\"code\"))")
	bash("go vet ./...", "", "")
	bash("git status --short", " M api/http.go\n M cart/cart.go\n?? cart/discount.go", "")
	use("TodoWrite", map[string]any{"todos": []any{map[string]any{"content": "ship", "status": "completed"}}}, map[string]any{"oldTodos": []any{}, "newTodos": []any{}})
	add("Stop", map[string]any{"stop_hook_active": false, "last_assistant_message": "Added discount codes: Total takes a code and applyDiscount subtracts it.\n\nNext steps: add a table of codes."})
	add("SessionEnd", map[string]any{"reason": "prompt_input_exit"})
	if len(calls) != 50 {
		panic(fmt.Sprintf("the session has %d payloads, want 50", len(calls)))
	}
	return calls
}
