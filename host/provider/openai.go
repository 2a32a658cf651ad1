package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/claude-mem/claude-mem-server/host/config"
)

// OpenAI defaults.
const (
	OpenAIName         = config.ProviderOpenAI
	OpenAIDefaultBase  = "https://api.openai.com/v1"
	OpenAIDefaultModel = "gpt-4o-mini"
)

// OpenAI generates observations through the Chat Completions API
// (POST {base}/chat/completions), which OpenAI, OpenRouter, Ollama
// (http://localhost:11434/v1), LM Studio (http://localhost:1234/v1) and
// most other servers speak.
type OpenAI struct {
	llm
}

var _ Provider = (*OpenAI)(nil)

// NewOpenAI returns the Chat Completions provider for cfg: cfg.Model
// (default gpt-4o-mini), cfg.BaseURL (default https://api.openai.com/v1; the
// base includes the version path), cfg.APIKey (sent as a bearer token, and
// left out when empty, for local servers), and the caps and timeout.
func NewOpenAI(cfg config.Generation, opts ...Option) *OpenAI {
	o := buildOptions(opts)
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = OpenAIDefaultBase
	}
	base = strings.TrimSuffix(base, "/chat/completions")
	c := &openaiClient{url: base + "/chat/completions", key: cfg.APIKey, client: o.client,
		openRouter: strings.Contains(base, "openrouter.ai")}
	p := &OpenAI{llm: newLLM(OpenAIName, cfg, OpenAIDefaultModel, c)}
	c.model = p.model
	return p
}

// Name is "openai".
func (*OpenAI) Name() string { return OpenAIName }

type openaiClient struct {
	url, key, model string
	openRouter      bool
	client          *http.Client
}

type openaiRequest struct {
	Model       string          `json:"model"`
	Messages    []openaiMessage `json:"messages"`
	MaxTokens   int             `json:"max_tokens,omitempty"`
	Temperature float64         `json:"temperature"`
}

type openaiMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type openaiResponse struct {
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
			Refusal *string `json:"refusal"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}

func (c *openaiClient) complete(ctx context.Context, p Prompt, maxTokens int) (completion, error) {
	body := openaiRequest{
		Model: c.model, MaxTokens: maxTokens,
		Messages: []openaiMessage{{Role: "system", Content: p.System}, {Role: "user", Content: p.User}},
	}
	h := http.Header{}
	if c.key != "" {
		h.Set("authorization", "Bearer "+c.key)
	}
	if c.openRouter {
		// OpenRouter's app attribution headers.
		h.Set("http-referer", "https://github.com/claude-mem/claude-mem-server")
		h.Set("x-title", "claude-mem")
	}
	var resp openaiResponse
	if err := postJSON(ctx, c.client, OpenAIName, c.url, h, body, &resp, openaiError); err != nil {
		return completion{}, err
	}
	usage := Usage{InputTokens: resp.Usage.PromptTokens, OutputTokens: resp.Usage.CompletionTokens, Model: resp.Model}
	if len(resp.Choices) == 0 {
		// Some servers answer 200 with an error body and no choices.
		typ, msg := openaiErrorValue(resp.Error)
		if typ == "" && msg == "" {
			msg = "the response has no choices"
		}
		return completion{usage: usage}, &APIError{Provider: OpenAIName, StatusCode: http.StatusOK, Type: typ, Message: msg, kind: ErrTransient}
	}
	msg := resp.Choices[0].Message
	text := ""
	switch {
	case msg.Content != nil:
		text = *msg.Content
	case msg.Refusal != nil:
		text = *msg.Refusal // prose: the parser reports it unparseable
	}
	return completion{text: text, usage: usage}, nil
}

// openaiError reads {"error":{"message":…,"type":…,"code":…}}; some
// compatible servers send {"error":"message"}.
func openaiError(data []byte) (string, string) {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &e) != nil {
		return "", ""
	}
	return openaiErrorValue(e.Error)
}

func openaiErrorValue(raw json.RawMessage) (string, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return "", s
	}
	var obj struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    any    `json:"code"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return "", ""
	}
	typ := obj.Type
	if typ == "" && obj.Code != nil {
		if c, ok := obj.Code.(string); ok {
			typ = c
		}
	}
	return typ, obj.Message
}
