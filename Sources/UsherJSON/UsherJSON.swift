// UsherJSON: the package's one JSON value, reader and writer.
//
// Management API bodies, metadata, Action events and reports, configuration files and Liquid template data are
// all JSON; keeping one representation (`JSONValue`, with `JSONObject` keeping member order and integers apart
// from doubles), one parser (`JSONParser`, with explicit depth and size limits) and one writer means the
// modules exchange values without converting them and agree on what valid JSON is.
//
// A leaf: it depends on nothing, so the engine modules (UsherActions, UsherLiquid) can use it and stay free of
// Usher's domain.
