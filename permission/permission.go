package permission

import (
	"fmt"

	"github.com/scmkit/scmkit/errcode"
)

// Type says whether a permission guards an action on no particular
// resource (basic) or on a resource of some type (resource).
type Type string

// The permission types, with Backstage's names.
const (
	Basic    Type = "basic"
	Resource Type = "resource"
)

// Action is a permission's action attribute.
type Action string

// The actions. A permission without an action attribute is matched by
// policies as Use, as the RBAC plugin does.
const (
	Create Action = "create"
	Read   Action = "read"
	Update Action = "update"
	Delete Action = "delete"
	Use    Action = "use"
)

// valid reports whether a is one of the actions a permission may carry
// (Use is for policies only).
func (a Action) valid() bool {
	switch a {
	case Create, Read, Update, Delete:
		return true
	}
	return false
}

// Resource types of Backstage's catalog and scaffolder.
const (
	CatalogEntityResourceType      = "catalog-entity"
	ScaffolderActionResourceType   = "scaffolder-action"
	ScaffolderTemplateResourceType = "scaffolder-template"
)

// Names of Backstage's catalog and scaffolder permissions.
const (
	CatalogEntityRead               = "catalog.entity.read"
	CatalogEntityCreate             = "catalog.entity.create"
	CatalogEntityDelete             = "catalog.entity.delete"
	CatalogEntityRefresh            = "catalog.entity.refresh"
	CatalogLocationRead             = "catalog.location.read"
	CatalogLocationCreate           = "catalog.location.create"
	CatalogLocationDelete           = "catalog.location.delete"
	ScaffolderActionExecute         = "scaffolder.action.execute"
	ScaffolderTemplateParameterRead = "scaffolder.template.parameter.read"
	ScaffolderTemplateStepRead      = "scaffolder.template.step.read"
	ScaffolderTaskRead              = "scaffolder.task.read"
	ScaffolderTaskCreate            = "scaffolder.task.create"
	ScaffolderTaskCancel            = "scaffolder.task.cancel"
	ScaffolderTemplateManagement    = "scaffolder.template.management"
)

// Permission is one thing a user may or may not do, in Backstage's wire
// shape: {"type":"resource","name":"catalog.entity.read",
// "attributes":{"action":"read"},"resourceType":"catalog-entity"}.
type Permission struct {
	Type         Type       `json:"type"`
	Name         string     `json:"name"`
	Attributes   Attributes `json:"attributes"`
	ResourceType string     `json:"resourceType,omitempty"`
}

// Attributes are a permission's attributes.
type Attributes struct {
	Action Action `json:"action,omitempty"`
}

// Action returns p's action, or Use when it has none.
func (p Permission) Action() Action {
	if p.Attributes.Action == "" {
		return Use
	}
	return p.Attributes.Action
}

// IsResource reports whether p is a resource permission.
func (p Permission) IsResource() bool { return p.Type == Resource }

// String returns p's name.
func (p Permission) String() string { return p.Name }

// Validate checks p's shape: a name, a known type, a known action if any,
// and a resource type exactly when p is a resource permission. It returns
// an InvalidArgument *errcode.Error.
func (p Permission) Validate() error {
	const op = "permission.Validate"
	switch {
	case p.Name == "":
		return errcode.New(errcode.InvalidArgument, op, "permission has no name")
	case len(p.Name) > 256:
		return errcode.New(errcode.InvalidArgument, op, "permission name is longer than 256 bytes")
	case p.Type != Basic && p.Type != Resource:
		return errcode.Newf(errcode.InvalidArgument, op, "permission %q: type must be basic or resource, got %q", p.Name, p.Type)
	case p.Attributes.Action != "" && !p.Attributes.Action.valid():
		return errcode.Newf(errcode.InvalidArgument, op, "permission %q: action must be create, read, update or delete, got %q", p.Name, p.Attributes.Action)
	case p.Type == Resource && p.ResourceType == "":
		return errcode.Newf(errcode.InvalidArgument, op, "resource permission %q has no resourceType", p.Name)
	case p.Type == Basic && p.ResourceType != "":
		return errcode.Newf(errcode.InvalidArgument, op, "basic permission %q has a resourceType", p.Name)
	}
	return nil
}

// Known returns Backstage's definition of the catalog or scaffolder
// permission with the given name.
func Known(name string) (Permission, bool) {
	basic := func(a Action) (Permission, bool) {
		return Permission{Type: Basic, Name: name, Attributes: Attributes{Action: a}}, true
	}
	res := func(rt string, a Action) (Permission, bool) {
		return Permission{Type: Resource, Name: name, Attributes: Attributes{Action: a}, ResourceType: rt}, true
	}
	switch name {
	case CatalogEntityRead:
		return res(CatalogEntityResourceType, Read)
	case CatalogEntityCreate:
		return basic(Create)
	case CatalogEntityDelete:
		return res(CatalogEntityResourceType, Delete)
	case CatalogEntityRefresh:
		return res(CatalogEntityResourceType, Update)
	case CatalogLocationRead:
		return basic(Read)
	case CatalogLocationCreate:
		return basic(Create)
	case CatalogLocationDelete:
		return basic(Delete)
	case ScaffolderActionExecute:
		return res(ScaffolderActionResourceType, "")
	case ScaffolderTemplateParameterRead, ScaffolderTemplateStepRead:
		return res(ScaffolderTemplateResourceType, Read)
	case ScaffolderTaskRead:
		return basic(Read)
	case ScaffolderTaskCreate:
		return basic(Create)
	case ScaffolderTaskCancel, ScaffolderTemplateManagement:
		return basic("")
	}
	return Permission{}, false
}

// MustKnown is [Known] for names known to exist; it panics on another
// name. It is meant for package-level tables of an embedder's program.
func MustKnown(name string) Permission {
	p, ok := Known(name)
	if !ok {
		panic(fmt.Sprintf("permission: %q is not a known permission", name))
	}
	return p
}
