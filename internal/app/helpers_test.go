package app_test

import (
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/plan"
)

func planInput(cadence int, due ...string) plan.Input {
	in := plan.Input{Goals: []string{"落实就业"}, CadenceDays: cadence}
	for _, d := range due {
		in.Measures = append(in.Measures, plan.MeasureInput{Kind: "career_guidance", Description: "就业指导", Owner: "辅导员", DueOn: d})
	}
	return in
}

func destinationInput(code string) destination.Input {
	in := destination.Input{Code: code}
	if code == "80" {
		in.ProofKind, in.ProofRef = "admission_notice", "录取通知书 2026-001"
	}
	return in
}
