package provider

import (
	"fmt"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// New returns the provider cfg.Provider names: heuristic (also when
// empty), anthropic or openai. It does not apply the budgets; see
// WithBudget and NewWithBudget.
func New(cfg config.Generation, opts ...Option) (Provider, error) {
	switch cfg.Provider {
	case "", config.ProviderHeuristic:
		return NewHeuristic(), nil
	case config.ProviderAnthropic:
		return NewAnthropic(cfg, opts...), nil
	case config.ProviderOpenAI:
		return NewOpenAI(cfg, opts...), nil
	default:
		return nil, fmt.Errorf("provider: unknown generation.provider %q: use %s, %s or %s",
			cfg.Provider, config.ProviderHeuristic, config.ProviderAnthropic, config.ProviderOpenAI)
	}
}

// NewWithBudget is New wrapped in the budgets of cfg.Budget, with the
// heuristic provider as the fallback and spend kept in st (which must be
// migrated). It is what the generation worker calls.
func NewWithBudget(cfg config.Generation, st *store.Store, opts ...Option) (*Budgeted, error) {
	p, err := New(cfg, opts...)
	if err != nil {
		return nil, err
	}
	return WithBudget(p, NewHeuristic(), cfg.Budget, NewUsageStore(st)), nil
}
