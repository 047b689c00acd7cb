package api

// sourceFields are the members of a source in a moderation body: the
// fields of geo.Source, and the first shape's name and date.
var sourceFields = []string{"url", "publisher", "title", "published_at", "accessed_at", "archive_url", "sha256", "kind", "name", "date"}
