package api

import (
	"fmt"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/project"

	"github.com/incidentmap/incidentmap/geo"
)

// swapAxes is EPSG:4326's axis order: latitude first.
func swapAxes(p orb.Point) orb.Point { return orb.Point{p[1], p[0]} }

// featureInCRS rewrites one GeoJSON feature from WGS 84 lon/lat into crs:
// a single place or layer feature (pages and single incidents are written
// in their CRS by the database; one feature is cheap to convert here).
func featureInCRS(raw []byte, crs geo.CRS) ([]byte, error) {
	if crs == geo.CRS84 {
		return raw, nil
	}
	f, err := geojson.UnmarshalFeature(raw)
	if err != nil {
		return nil, fmt.Errorf("decode feature: %w", err)
	}
	if f.Geometry != nil {
		proj := project.WGS84.ToMercator
		if crs == geo.EPSG4326 {
			proj = swapAxes
		}
		f.Geometry = project.Geometry(orb.Clone(f.Geometry), proj)
	}
	return f.MarshalJSON()
}

// setContentCRS names the CRS of a response's geometries (Part 2).
func setContentCRS(c echo.Context, crs geo.CRS) {
	c.Response().Header().Set("Content-Crs", "<"+crs.URI()+">")
}
