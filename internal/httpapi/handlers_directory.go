package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
)

func (s *Server) createSchool(c echo.Context) error {
	var in directory.SchoolInput
	if err := bind(c, &in); err != nil {
		return err
	}
	sc, err := s.Directory.CreateSchool(ctx(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, sc)
}

func (s *Server) listSchools(c echo.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	l, err := s.Directory.ListSchools(ctx(c), actor(c), pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

type departmentRequest struct {
	Name string `json:"name"`
}

func (s *Server) createDepartment(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in departmentRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	d, err := s.Directory.CreateDepartment(ctx(c), id, in.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

func (s *Server) listDepartments(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	pg, err := page(c)
	if err != nil {
		return err
	}
	l, err := s.Directory.ListDepartments(ctx(c), actor(c), id, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (s *Server) createUser(c echo.Context) error {
	var in directory.UserInput
	if err := bind(c, &in); err != nil {
		return err
	}
	u, err := s.Directory.CreateUser(ctx(c), in)
	if err != nil {
		return err
	}
	setETag(c, u.Version)
	return c.JSON(http.StatusCreated, u)
}

func (s *Server) listUsers(c echo.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	f := directory.UserFilter{Role: bangfu.Role(c.QueryParam("role"))}
	if v := c.QueryParam("school_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return invalid("school_id", "must be a whole number")
		}
		f.SchoolID = &id
	}
	l, err := s.Directory.ListUsers(ctx(c), f, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (s *Server) getUser(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	u, err := s.Directory.User(ctx(c), id)
	if err != nil {
		return err
	}
	setETag(c, u.Version)
	return c.JSON(http.StatusOK, u)
}

// setETag sets the ETag of a versioned record: its version, quoted.
func setETag(c echo.Context, version int) {
	c.Response().Header().Set("ETag", `"`+strconv.Itoa(version)+`"`)
}

// ifMatch reads the version a write is based on from If-Match. Without it
// the write is refused (428): a client must say which version it edits.
func ifMatch(c echo.Context) (int, error) {
	h := strings.TrimSpace(c.Request().Header.Get("If-Match"))
	if h == "" {
		return 0, bangfu.Errorf(bangfu.EPRECONDITIONREQ, "Send If-Match with the ETag of the version you are changing.")
	}
	v, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(h, "W/"), `"`))
	if err != nil || v < 1 {
		return 0, invalid("If-Match", "must be an ETag returned by this API, like \"3\"")
	}
	return v, nil
}
