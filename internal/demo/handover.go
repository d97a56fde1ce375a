package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/handover"
)

// handover hands one of last year's graduates who left school unplaced
// over to the public employment service (离校未就业实名衔接), with the
// agency's acknowledgement; the others of them stay in the caseload in
// their after-graduation phase, followed monthly.
func (d *demo) handover(ctx context.Context) error {
	var done bool
	if err := d.app.DB.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM handovers h JOIN students s ON s.id = h.student_id
		WHERE s.school_id = $1)`, d.school).Scan(&done); err != nil || done {
		return err
	}
	var id int64
	err := d.app.DB.Pool.QueryRow(ctx, `SELECT s.id FROM students s JOIN users u ON u.id = s.counselor_id
		WHERE s.school_id = $1 AND u.username = 'counselor' AND s.graduation_year = $2 AND s.consent
		  AND s.status IN ('open', 'active') AND (s.destination_code IS NULL OR s.destination_code IN ('70', '71', '72'))
		ORDER BY s.id LIMIT 1`, d.school, d.cohort-1).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	c := d.users["counselor"]
	today := bangfu.DateOf(d.now)
	if _, err := d.app.Handovers.Create(ctx, c, id, handover.Input{
		Agency: "佛山市顺德区公共就业服务中心", AgencyRegion: "佛山市顺德区", HandedOverOn: today.String(),
		SharedFields: []string{"name", "phone", "education_level", "major", "intention"},
		Note:         "毕业生本人同意，由户籍地街道就业专员继续跟进",
	}); err != nil {
		return err
	}
	_, err = d.app.Handovers.Acknowledge(ctx, c, id, handover.AcknowledgementInput{
		AcknowledgedOn: today.String(), AcknowledgedBy: "顺德区就业服务中心 梁科员",
		Reference: fmt.Sprintf("顺人社衔接〔%d〕8号", d.cohort-1),
	})
	return err
}
