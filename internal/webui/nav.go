package webui

import (
	"strings"

	"github.com/bangfu/bangfu"
)

// NavItem is one link of a role's navigation.
type NavItem struct {
	Href, Label string
	Current     bool
}

// navs lists each role's navigation: catalogue key and path. The first
// item is the role's home page.
var navs = map[bangfu.Role][][2]string{
	bangfu.RoleStudent:    {{"nav.my", "/"}, {"nav.notifications", "/notifications"}},
	bangfu.RoleCounselor:  {{"nav.workbench", "/"}, {"nav.group", "/contacts/group"}, {"nav.import", "/import"}, {"nav.escalations", "/escalations"}},
	bangfu.RoleSupervisor: {{"nav.overview", "/"}, {"nav.review", "/review"}, {"nav.escalations", "/escalations"}, {"nav.counselors", "/counselors"}, {"nav.verify", "/verify"}, {"nav.reports", "/reports"}, {"nav.import", "/import"}, {"nav.training", "/cohorts"}},
	bangfu.RoleProvince:   {{"nav.reports", "/"}, {"nav.review", "/review"}, {"nav.escalations", "/escalations"}},
	bangfu.RoleAdmin:      {{"nav.users", "/"}, {"nav.schools", "/admin/schools"}, {"nav.bases", "/admin/bases"}, {"nav.cohorts", "/cohorts"}, {"nav.settings", "/admin/settings"}, {"nav.staffing", "/reports/staffing"}, {"nav.deliveries", "/admin/deliveries"}, {"nav.jobs", "/admin/jobs"}},
	bangfu.RoleBase:       {{"nav.trainees", "/"}, {"nav.cohorts", "/cohorts"}},
}

// navFor returns role's navigation with the item for path marked current.
// Labels are catalogue keys; the layout translates them.
func navFor(role bangfu.Role, path string) []NavItem {
	var out []NavItem
	for _, n := range navs[role] {
		href := n[1]
		cur := path == href || (href != "/" && strings.HasPrefix(path, href+"/"))
		out = append(out, NavItem{Href: href, Label: n[0], Current: cur})
	}
	return out
}
