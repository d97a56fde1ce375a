package httpapi

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/plan"
)

func auditFilter(c echo.Context, p *bangfu.Problems) audit.Filter {
	return audit.Filter{StudentID: queryID(c, p, "student_id"), SchoolID: queryID(c, p, "school_id")}
}

func (s *Server) getPlan(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return s.writePlan(c, id)
}

func (s *Server) writePlan(c echo.Context, studentID int64) error {
	pl, err := s.Plans.Get(ctx(c), actor(c), studentID)
	if err != nil {
		return err
	}
	setETag(c, pl.Current.Revision)
	return c.JSON(http.StatusOK, pl)
}

// own serves a student's own graduate file through h; an account with no
// file linked has nothing to show (not found).
func own(what string, h func(echo.Context, int64) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		a := actor(c)
		if a.StudentID == nil {
			return bangfu.NotFound(what)
		}
		return h(c, *a.StudentID)
	}
}

func (s *Server) getPlanRevision(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 {
		return bangfu.NotFound("plan revision")
	}
	r, err := s.Plans.Revision(ctx(c), actor(c), id, n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// optionalIfMatch reads If-Match when present: the first plan or
// destination of a graduate needs none.
func optionalIfMatch(c echo.Context) (*int, error) {
	if c.Request().Header.Get("If-Match") == "" {
		return nil, nil
	}
	v, err := ifMatch(c)
	return &v, err
}

func (s *Server) putPlan(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	base, err := optionalIfMatch(c)
	if err != nil {
		return err
	}
	var in plan.Input
	if err := bind(c, &in); err != nil {
		return err
	}
	r, err := s.Plans.Put(ctx(c), actor(c), id, base, in)
	if err != nil {
		return err
	}
	setETag(c, r.Revision)
	return c.JSON(http.StatusOK, r)
}

type acknowledgeRequest struct {
	Revision int `json:"revision"`
}

func (s *Server) acknowledgePlan(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req acknowledgeRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	r, err := s.Plans.Acknowledge(ctx(c), actor(c), id, req.Revision)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (s *Server) appendLedgerGroup(c echo.Context) error {
	var in ledger.GroupInput
	if err := bind(c, &in); err != nil {
		return err
	}
	es, err := s.Ledger.AppendGroup(ctx(c), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"entries": es})
}

func (s *Server) correctLedger(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	seq, err := strconv.Atoi(c.Param("seq"))
	if err != nil || seq < 1 {
		return bangfu.NotFound("ledger entry")
	}
	var in ledger.CorrectionInput
	if err := bind(c, &in); err != nil {
		return err
	}
	e, err := s.Ledger.Correct(ctx(c), actor(c), id, seq, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, e)
}

func (s *Server) listLedger(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return s.writeLedger(c, id)
}

func (s *Server) writeLedger(c echo.Context, studentID int64) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	l, err := s.Ledger.List(ctx(c), actor(c), studentID, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (s *Server) verifyLedger(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Ledger.Verify(ctx(c), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) getDestination(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	h, err := s.Destinations.Get(ctx(c), actor(c), id)
	if err != nil {
		return err
	}
	if h.Current != nil {
		setETag(c, int(h.Current.ID))
	}
	return c.JSON(http.StatusOK, h)
}

func (s *Server) putDestination(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	base, err := optionalIfMatch(c)
	if err != nil {
		return err
	}
	var in destination.Input
	if err := bind(c, &in); err != nil {
		return err
	}
	d, err := s.Destinations.Put(ctx(c), actor(c), id, toInt64(base), in)
	if err != nil {
		return err
	}
	setETag(c, int(d.ID))
	return c.JSON(http.StatusOK, d)
}

func (s *Server) verifyDestination(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	base, err := optionalIfMatch(c)
	if err != nil {
		return err
	}
	d, err := s.Destinations.Verify(ctx(c), actor(c), id, toInt64(base))
	if err != nil {
		return err
	}
	setETag(c, int(d.ID))
	return c.JSON(http.StatusOK, d)
}

func toInt64(v *int) *int64 {
	if v == nil {
		return nil
	}
	n := int64(*v)
	return &n
}
