package client_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strconv"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/client"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// The examples run against the real server TestMain starts: serverURL is
// its address and apiKey a key of its local team.

func ExampleNew() {
	c, err := client.New(serverURL, client.WithAPIKey(apiKey), client.WithUserAgent("my-tool/1.0"))
	if err != nil {
		log.Fatal(err)
	}
	h, err := c.Health(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(h.Status)
	// Output: ok
}

func ExampleClient_Search() {
	ctx := context.Background()
	c, err := client.New(serverURL, client.WithAPIKey(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.CreateMemory(ctx, client.CreateMemoryRequest{
		Project: "example-payments",
		Title:   "Payment webhooks retry policy",
		Text:    "Payment webhooks are retried three times, with exponential backoff.",
	})
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.Search(ctx, client.SearchRequest{
		Query:   "webhooks backoff",
		Filters: client.Filters{Projects: []string{"example-payments"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range res.Hits {
		fmt.Println(h.Kind+":", h.Observation.Title)
	}
	// Output: observation: Payment webhooks retry policy
}

func ExampleClient_SupersedeMemory() {
	ctx := context.Background()
	c, err := client.New(serverURL, client.WithAPIKey(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	old, err := c.CreateMemory(ctx, client.CreateMemoryRequest{Project: "example-deploys", Title: "Deploy day", Text: "Deploys go out on Tuesdays."})
	if err != nil {
		log.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // times are in milliseconds: keep the versions apart
	_, err = c.SupersedeMemory(ctx, old.Memory.ID, client.SupersedeRequest{Title: "Deploy day", Text: "Deploys go out on Wednesdays."})
	if err != nil {
		log.Fatal(err)
	}

	// The old id now reads the current version, with the whole history...
	now, err := c.GetMemory(ctx, old.Memory.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("now:", now.Memory.Narrative, "versions:", len(now.History))
	// ...and as_of reads the version current at a time.
	then, err := c.GetMemory(ctx, old.Memory.ID, &client.GetMemoryOptions{AsOf: old.Memory.ValidFrom})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("then:", then.Memory.Narrative, "current:", then.Memory.Current)
	// Output:
	// now: Deploys go out on Wednesdays. versions: 2
	// then: Deploys go out on Tuesdays. current: false
}

func ExampleClient_Forget() {
	ctx := context.Background()
	c, err := client.New(serverURL, client.WithAPIKey(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	m, err := c.CreateMemory(ctx, client.CreateMemoryRequest{Project: "example-secrets", Text: "The staging password is on the wiki."})
	if err != nil {
		log.Fatal(err)
	}
	forgot, err := c.Forget(ctx, client.ForgetRequest{IDs: []int64{m.Memory.ID}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("forgotten:", forgot.Observations)
	res, err := c.Search(ctx, client.SearchRequest{Query: "staging password"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("found:", len(res.Hits))
	// Output:
	// forgotten: 1
	// found: 0
}

func ExampleClient_StartSession() {
	ctx := context.Background()
	c, err := client.New(serverURL, client.WithAPIKey(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	// The agent's own id for its session.
	sessionID := "example-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	start, err := c.StartSession(ctx, client.StartSessionRequest{ContentSessionID: sessionID, PlatformSource: "my-agent", Project: "example-agent"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("session:", start.Status, start.Session.Status)

	res, err := c.PostEvent(ctx, event.AgentEvent{
		Type:             event.TypeToolUse,
		PlatformSource:   "my-agent",
		ContentSessionID: sessionID,
		Project:          "example-agent",
		ToolName:         "Bash",
		ToolUseID:        "call-1",
		ToolInput:        json.RawMessage(`{"command":"go test ./..."}`),
		ToolResponse:     json.RawMessage(`{"stdout":"ok"}`),
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("event:", res.Status, res.EventType, "job:", res.Job.Kind)
	// Output:
	// session: created active
	// event: created tool_use job: observe
}

func ExampleClient_Export() {
	ctx := context.Background()
	c, err := client.New(serverURL, client.WithAPIKey(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	stream, err := c.Export(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer stream.Close()
	// One JSON object per line, from a header to an end line; a file of
	// them is what Import reads.
	lines := bufio.NewScanner(stream)
	lines.Buffer(nil, 16<<20)
	var kinds []string
	for lines.Scan() {
		var line struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
			log.Fatal(err)
		}
		if len(kinds) == 0 || kinds[len(kinds)-1] != line.Kind {
			kinds = append(kinds, line.Kind)
		}
	}
	if err := lines.Err(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(kinds[0], "…", kinds[len(kinds)-1])
	// Output: header … end
}

func ExampleError() {
	ctx := context.Background()
	c, err := client.New(serverURL, client.WithAPIKey(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.GetMemory(ctx, 1<<40, nil)
	if apiErr, ok := errors.AsType[*client.Error](err); ok {
		fmt.Println(apiErr.StatusCode, apiErr.Code)
	}
	fmt.Println("not found:", client.IsNotFound(err))

	anon, err := client.New(serverURL) // no key
	if err != nil {
		log.Fatal(err)
	}
	_, err = anon.ListProjects(ctx)
	fmt.Println("unauthorized:", client.IsUnauthorized(err))
	// Output:
	// 404 not_found
	// not found: true
	// unauthorized: true
}
