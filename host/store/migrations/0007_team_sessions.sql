-- Sessions are unique per team. Two teams may report the same agent
-- session id (a custom agent's "run-42"), and a write naming an id that
-- another team uses must neither fail nor tell the caller that the id
-- exists elsewhere: each team gets a session of its own.
DROP INDEX ux_sdk_sessions_platform_content;
CREATE UNIQUE INDEX ux_sdk_sessions_team_platform_content ON sdk_sessions(team_id, platform_source, content_session_id);
