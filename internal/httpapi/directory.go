package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
)

func (api *API) createSchool(c echo.Context) error {
	var in directory.SchoolInput
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	sc, err := api.Directory.CreateSchool(request.Context(c), request.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, sc)
}

type departmentRequest struct {
	Name string `json:"name"`
}

func (api *API) createDepartment(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	var in departmentRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	d, err := api.Directory.CreateDepartment(request.Context(c), request.Actor(c), id, in.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

func (api *API) listDepartments(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	q, err := request.Params(c, "limit", "cursor")
	if err != nil {
		return err
	}
	pg := q.Page()
	if err := q.Err(); err != nil {
		return err
	}
	l, err := api.Directory.ListDepartments(request.Context(c), request.Actor(c), id, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (api *API) createUser(c echo.Context) error {
	var in directory.UserInput
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	u, err := api.Directory.CreateUser(request.Context(c), request.Actor(c), in)
	if err != nil {
		return err
	}
	response.SetETag(c, u.Version)
	return c.JSON(http.StatusCreated, u)
}

func (api *API) listUsers(c echo.Context) error {
	q, err := request.Params(c, "limit", "cursor", "role", "school_id")
	if err != nil {
		return err
	}
	pg := q.Page()
	f := directory.UserFilter{Role: bangfu.Role(q.String("role")), SchoolID: q.ID("school_id")}
	if err := q.Err(); err != nil {
		return err
	}
	l, err := api.Directory.ListUsers(request.Context(c), f, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (api *API) getUser(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := noParams(c); err != nil {
		return err
	}
	u, err := api.Directory.User(request.Context(c), id)
	if err != nil {
		return err
	}
	response.SetETag(c, u.Version)
	return c.JSON(http.StatusOK, u)
}
