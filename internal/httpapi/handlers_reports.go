package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/report"
)

func (s *Server) reviewLedger(c echo.Context) error {
	var p bangfu.Problems
	f := ledger.ReviewFilter{
		SchoolID: queryID(c, &p, "school_id"), StudentID: queryID(c, &p, "student_id"), AuthorID: queryID(c, &p, "author_id"),
		Kind: c.QueryParam("kind"), Since: queryTime(c, &p, "since"), Until: queryTime(c, &p, "until"),
	}
	limit := bangfu.DefaultPageLimit
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			p.Add("limit", "must be a whole number from 1 to 200")
		}
		limit = n
	}
	if err := p.Err(); err != nil {
		return err
	}
	page, err := s.Ledger.Review(ctx(c), actor(c), f, c.QueryParam("cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// queryTime reads an RFC 3339 time or a date (midnight in Asia/Shanghai).
func queryTime(c echo.Context, p *bangfu.Problems, name string) *time.Time {
	v := c.QueryParam(name)
	if v == "" {
		return nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return &t
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, bangfu.Shanghai); err == nil {
		return &t
	}
	p.Add(name, "must be a date like 2026-07-31 or a time like 2026-07-31T09:00:00+08:00")
	return nil
}

func (s *Server) reportSummary(c echo.Context) error {
	var p bangfu.Problems
	f := report.Filter{SchoolID: queryID(c, &p, "school_id")}
	if v := c.QueryParam("graduation_year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil {
			y = -1 // the service names the problem
		}
		f.GraduationYear = y
	}
	if err := p.Err(); err != nil {
		return err
	}
	sum, err := s.Reports.Summary(ctx(c), actor(c), f)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", fmt.Sprintf("private, max-age=%d", int(report.CacheTTL.Seconds())))
	return c.JSON(http.StatusOK, sum)
}
