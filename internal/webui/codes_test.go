package webui

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/handover"
	"github.com/bangfu/bangfu/internal/roster"
)

// TestEveryCodeHasAName: the codes the pages name through {{$.Name kind
// code}} or a key built from a code — which TestCatalogues cannot see in
// the templates — have a name in every language, and every destination
// code is offered by the destination forms with its rule.
func TestEveryCodeHasAName(t *testing.T) {
	t.Parallel()
	cats, err := loadCatalogues()
	require.NoError(t, err)
	kinds := map[string][]string{
		"status":           graduate.Statuses,
		"phase":            {graduate.PhaseInSchool, graduate.PhaseAfterGraduation},
		"place_status":     roster.Statuses,
		"cohort_state":     roster.CohortStates,
		"cohort_mode":      roster.Modes,
		"delivery_state":   {"pending", "delivered", "skipped"},
		"skip_reason":      {"no_consent"},
		"roster.unmet":     {roster.UnmetGraduationYear, roster.UnmetConsent, roster.UnmetHardship, roster.UnmetPlanMeasure, roster.UnmetCompleted, roster.UnmetDeclined, roster.UnmetWithdrawn},
		"roster.field":     cohortFields,
		"roster.editable":  roster.CohortStates,
		"roster.move":      roster.CohortStates[1:],
		"roster.move_hint": roster.CohortStates[1:],
		"roster.moved":     roster.CohortStates[1:],
		"handover.field":   handover.SharedFields,
		"dest":             destination.CodeList(),
		"file.dest.rule":   destination.CodeList(),
	}
	for kind, codes := range kinds {
		for _, code := range codes {
			for _, lang := range Languages {
				_, ok := cats[lang][kind+"."+code]
				require.True(t, ok, "%s has no name for %s.%s", lang, kind, code)
			}
		}
	}
	var offered []string
	for _, g := range destCodeGroups {
		offered = append(offered, g.Codes...)
	}
	slices.Sort(offered)
	all := destination.CodeList()
	slices.Sort(all)
	require.Equal(t, all, offered, "the destination forms offer every code, once")
}
