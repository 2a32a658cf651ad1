package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/claude-mem/claude-mem-server/host/config"
)

// Anthropic defaults.
const (
	AnthropicName         = config.ProviderAnthropic
	AnthropicDefaultBase  = "https://api.anthropic.com"
	AnthropicDefaultModel = "claude-haiku-4-5-20251001"
	anthropicVersion      = "2023-06-01"
)

// Anthropic generates observations with a Claude model through the
// Messages API (POST {base}/v1/messages).
type Anthropic struct {
	llm
}

var _ Provider = (*Anthropic)(nil)

// NewAnthropic returns the Anthropic provider for cfg: cfg.Model (default
// claude-haiku-4-5-20251001), cfg.BaseURL (default https://api.anthropic.com,
// with or without a trailing /v1), cfg.APIKey, and the caps and timeout.
func NewAnthropic(cfg config.Generation, opts ...Option) *Anthropic {
	o := buildOptions(opts)
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = AnthropicDefaultBase
	}
	base = strings.TrimSuffix(base, "/v1")
	c := &anthropicClient{url: base + "/v1/messages", key: cfg.APIKey, client: o.client}
	a := &Anthropic{llm: newLLM(AnthropicName, cfg, AnthropicDefaultModel, c)}
	c.model = a.model
	return a
}

// Name is "anthropic".
func (*Anthropic) Name() string { return AnthropicName }

type anthropicClient struct {
	url, key, model string
	client          *http.Client
}

type anthropicRequest struct {
	Model       string             `json:"model"`
	MaxTokens   int                `json:"max_tokens"`
	System      string             `json:"system"`
	Messages    []anthropicMessage `json:"messages"`
	Temperature float64            `json:"temperature"`
}

type anthropicMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type anthropicResponse struct {
	Model   string `json:"model"`
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StopReason string `json:"stop_reason"`
	Usage      struct {
		InputTokens              int64 `json:"input_tokens"`
		OutputTokens             int64 `json:"output_tokens"`
		CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
		CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	} `json:"usage"`
}

func (c *anthropicClient) complete(ctx context.Context, p Prompt, maxTokens int) (completion, error) {
	body := anthropicRequest{
		Model: c.model, MaxTokens: maxTokens, System: p.System,
		Messages: []anthropicMessage{{Role: "user", Content: p.User}},
	}
	h := http.Header{}
	h.Set("anthropic-version", anthropicVersion)
	if c.key != "" {
		h.Set("x-api-key", c.key)
	}
	var resp anthropicResponse
	if err := postJSON(ctx, c.client, AnthropicName, c.url, h, body, &resp, anthropicError); err != nil {
		return completion{}, err
	}
	var text strings.Builder
	for _, part := range resp.Content {
		if part.Type == "text" {
			text.WriteString(part.Text)
		}
	}
	return completion{
		text: text.String(),
		usage: Usage{
			InputTokens:  resp.Usage.InputTokens + resp.Usage.CacheCreationInputTokens + resp.Usage.CacheReadInputTokens,
			OutputTokens: resp.Usage.OutputTokens,
			Model:        resp.Model,
		},
	}, nil
}

// anthropicError reads {"type":"error","error":{"type":…,"message":…}}.
func anthropicError(data []byte) (string, string) {
	var e struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &e) != nil {
		return "", ""
	}
	return e.Error.Type, e.Error.Message
}
