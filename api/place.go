package api

import "github.com/labstack/echo/v4"

// placeRoutes registers the gazetteer endpoints. (Placeholder until the
// places work lands; replaced by that file.)
func (s *Server) placeRoutes(g *echo.Group) {}

// placePaths documents placeRoutes in the OpenAPI document.
func placePaths() obj { return obj{} }
