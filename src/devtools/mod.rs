//! The observation server (feature `server`): Agently DevTools' HTTP API
//! over an embedded SQLite store, live streams and the viewer page.
