package client_test

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/client"
)

func TestMemories(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c, team := newTeam(t)

	req := client.CreateMemoryRequest{Project: "billing", Title: "Invoices retry", Text: "Invoice webhooks retry three times with backoff.",
		Concepts: []string{"webhooks"}, Facts: []string{"3 retries"}}
	created := must(c.CreateMemory(ctx, req))(t)
	m := created.Memory
	if created.Created == nil || !*created.Created || m.ID == 0 || m.TeamID != team || m.Type != "manual" || m.Title != req.Title ||
		m.Narrative != req.Text || !slices.Equal(m.Concepts, req.Concepts) || !slices.Equal(m.Facts, req.Facts) || !m.Current || m.ValidTo != nil {
		t.Fatalf("created %+v", created)
	}
	again := must(c.CreateMemory(ctx, req))(t)
	if again.Created == nil || *again.Created || again.Memory.ID != m.ID {
		t.Fatalf("created again %+v", again)
	}
	got := must(c.GetMemory(ctx, m.ID, nil))(t)
	if !reflect.DeepEqual(got.Memory, m) || got.RequestedID != m.ID || len(got.History) != 1 || got.AsOf != nil {
		t.Fatalf("get %+v, want %+v", got, m)
	}

	title := "Invoice webhooks retry"
	patched := must(c.UpdateMemory(ctx, m.ID, client.UpdateMemoryRequest{Title: &title}))(t)
	if patched.Memory.ID != m.ID || patched.Memory.Title != title || patched.Memory.Narrative != req.Text {
		t.Fatalf("patched %+v", patched)
	}
	_, err := c.UpdateMemory(ctx, m.ID, client.UpdateMemoryRequest{})
	wantAPIError(t, err, http.StatusBadRequest, client.CodeInvalidRequest)

	// Supersede keeps the old version in the history, readable as_of.
	time.Sleep(5 * time.Millisecond) // so that the versions' times differ
	sup := must(c.SupersedeMemory(ctx, m.ID, client.SupersedeRequest{Title: "Invoices retry five times", Text: "Invoice webhooks now retry five times."}))(t)
	cur := sup.Memory
	if cur.ID == m.ID || !cur.Current || cur.Project != "billing" || sup.RequestedID != m.ID || sup.Superseded == nil ||
		sup.Superseded.ID != m.ID || sup.Superseded.Current || sup.Superseded.SupersededBy == nil || *sup.Superseded.SupersededBy != cur.ID {
		t.Fatalf("supersede %+v", sup)
	}
	now := must(c.GetMemory(ctx, m.ID, nil))(t)
	if now.Memory.ID != cur.ID || len(now.History) != 2 || now.History[0].ID != m.ID || now.History[1].ID != cur.ID {
		t.Fatalf("after supersede %+v", now)
	}
	then := must(c.GetMemory(ctx, cur.ID, &client.GetMemoryOptions{AsOf: m.ValidFrom}))(t)
	if then.Memory.ID != m.ID || then.Memory.Title != title || then.AsOf == nil || !then.AsOf.Equal(m.ValidFrom) {
		t.Fatalf("as_of %s: %+v", m.ValidFrom, then)
	}
	_, err = c.GetMemory(ctx, m.ID, &client.GetMemoryOptions{AsOf: m.ValidFrom.Add(-time.Hour)})
	wantAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
	_, err = c.SupersedeMemory(ctx, m.ID, client.SupersedeRequest{Text: "again"})
	wantAPIError(t, err, http.StatusConflict, client.CodeSuperseded)
	_, err = c.UpdateMemory(ctx, m.ID, client.UpdateMemoryRequest{Title: &title})
	wantAPIError(t, err, http.StatusConflict, client.CodeSuperseded)

	_, err = c.GetMemory(ctx, 1<<40, nil)
	wantAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
	other, _ := newTeam(t)
	_, err = other.GetMemory(ctx, cur.ID, nil)
	wantAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
}

func TestSearchContextForget(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c, _ := newTeam(t)
	remember := func(project, title, text string) client.Memory {
		t.Helper()
		return must(c.CreateMemory(ctx, client.CreateMemoryRequest{Project: project, Title: title, Text: text}))(t).Memory
	}
	cache := remember("shop", "Cache invalidation", "The catalogue cache is invalidated by the quokka job every hour.")
	queue := remember("shop", "Queue backpressure", "The order queue drops to one worker under quokka backpressure.")
	other := remember("blog", "Blog theme", "The blog uses a dark theme with quokka illustrations.")

	res := must(c.Search(ctx, client.SearchRequest{Query: "quokka", Kinds: []string{client.KindObservation}}))(t)
	if res.Query != "quokka" || res.Match != client.MatchAll || len(res.Hits) != 3 {
		t.Fatalf("search %+v", res)
	}
	for _, h := range res.Hits {
		if h.Kind != client.KindObservation || h.Observation == nil || h.Observation.ID != h.ID || h.Summary != nil || h.Prompt != nil {
			t.Fatalf("hit %+v", h)
		}
	}
	res = must(c.Search(ctx, client.SearchRequest{Query: "quokka cache", Filters: client.Filters{Projects: []string{"shop"}}}))(t)
	if len(res.Hits) != 1 || res.Hits[0].Observation.Title != cache.Title {
		t.Fatalf("search in shop %+v", res)
	}
	res = must(c.Search(ctx, client.SearchRequest{Filters: client.Filters{Projects: []string{"blog"}, DateStart: other.CreatedAt.Add(-time.Minute)},
		OrderBy: client.OrderDateDesc, Limit: 5}))(t)
	if res.Match != client.MatchFilter || len(res.Hits) != 1 || res.Hits[0].ID != other.ID {
		t.Fatalf("filter search %+v", res)
	}
	_, err := c.Search(ctx, client.SearchRequest{Query: "quokka", OrderBy: "sideways"})
	wantAPIError(t, err, http.StatusBadRequest, client.CodeInvalidRequest)

	pack := must(c.Context(ctx, client.ContextRequest{Project: "shop", MaxTokens: 2000}))(t)
	if pack.Empty || !slices.Contains(pack.ObservationIDs, cache.ID) || !slices.Contains(pack.ObservationIDs, queue.ID) ||
		slices.Contains(pack.ObservationIDs, other.ID) || !strings.Contains(pack.Text, cache.Title) || pack.Tokens == 0 {
		t.Fatalf("context %+v", pack)
	}

	// Forget by id takes the whole history; search then finds nothing.
	sup := must(c.SupersedeMemory(ctx, queue.ID, client.SupersedeRequest{Title: "Queue backpressure v2", Text: "Two quokka workers now."}))(t)
	forgot := must(c.Forget(ctx, client.ForgetRequest{IDs: []int64{sup.Memory.ID}}))(t)
	slices.Sort(forgot.ObservationIDs)
	if forgot.Observations != 2 || !slices.Equal(forgot.ObservationIDs, []int64{queue.ID, sup.Memory.ID}) {
		t.Fatalf("forget ids %+v", forgot)
	}
	if res = must(c.Search(ctx, client.SearchRequest{Query: "backpressure"}))(t); len(res.Hits) != 0 {
		t.Fatalf("search after forget %+v", res)
	}
	_, err = c.GetMemory(ctx, queue.ID, nil)
	wantAPIError(t, err, http.StatusNotFound, client.CodeNotFound)

	// By filter, then a whole project.
	forgot = must(c.Forget(ctx, client.ForgetRequest{Filter: &client.ForgetFilter{Query: "quokka illustrations"}}))(t)
	if forgot.Observations != 1 || !slices.Equal(forgot.ObservationIDs, []int64{other.ID}) {
		t.Fatalf("forget filter %+v", forgot)
	}
	forgot = must(c.Forget(ctx, client.ForgetRequest{Project: "shop"}))(t)
	if forgot.Observations != 1 || forgot.Sessions != 1 || !slices.Equal(forgot.ObservationIDs, []int64{cache.ID}) {
		t.Fatalf("forget project %+v", forgot)
	}
	if res = must(c.Search(ctx, client.SearchRequest{Query: "quokka"}))(t); len(res.Hits) != 0 {
		t.Fatalf("search after forgetting everything %+v", res)
	}
	_, err = c.Forget(ctx, client.ForgetRequest{})
	wantAPIError(t, err, http.StatusBadRequest, client.CodeInvalidRequest)
	_, err = c.Forget(ctx, client.ForgetRequest{Project: "no-such-project"})
	wantAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
}
