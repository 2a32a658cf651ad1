-- Indexes for search (host/search) and context packs (host/contextpack).
-- Only indexes: no table changes.

-- Covering indexes led by id. A full-text match joins back to its row by
-- id to apply the team and the filters; reading those columns from a dense
-- index instead of the wide rows (narratives, facts) makes the join several
-- times cheaper per matched row, and the narrow ones stay in the page cache.
-- The *_lists indexes add the JSON file and concept lists, for the file and
-- concept filters. Search names them with INDEXED BY.
CREATE INDEX idx_observations_search ON observations(id, team_id, project, merged_into_project, project_id, type,
	session_id, created_at_epoch);
CREATE INDEX idx_observations_search_lists ON observations(id, team_id, project, merged_into_project, project_id, type,
	session_id, created_at_epoch, concepts, files_read, files_modified);
CREATE INDEX idx_session_summaries_search ON session_summaries(id, team_id, project, merged_into_project, project_id,
	session_id, created_at_epoch);
CREATE INDEX idx_session_summaries_search_lists ON session_summaries(id, team_id, project, merged_into_project, project_id,
	session_id, created_at_epoch, files_read, files_edited);
CREATE INDEX idx_user_prompts_search ON user_prompts(id, session_db_id, is_private, created_at_epoch);
CREATE INDEX idx_sdk_sessions_search ON sdk_sessions(id, team_id, project, project_id, platform_source);

-- The newest rows of a team, and of a team's project: filter-only search,
-- timelines and context packs read these newest first and stop early.
CREATE INDEX idx_observations_team_created ON observations(team_id, created_at_epoch);
CREATE INDEX idx_observations_team_project_created ON observations(team_id, project, created_at_epoch);
CREATE INDEX idx_observations_team_project_id ON observations(team_id, project_id, created_at_epoch);
CREATE INDEX idx_observations_team_type ON observations(team_id, type, created_at_epoch);
CREATE INDEX idx_observations_merged_created ON observations(merged_into_project, created_at_epoch)
	WHERE merged_into_project IS NOT NULL;
CREATE INDEX idx_session_summaries_team_created ON session_summaries(team_id, created_at_epoch);
CREATE INDEX idx_session_summaries_team_project_created ON session_summaries(team_id, project, created_at_epoch);
CREATE INDEX idx_session_summaries_merged_created ON session_summaries(merged_into_project, created_at_epoch)
	WHERE merged_into_project IS NOT NULL;
CREATE INDEX idx_sdk_sessions_team_project ON sdk_sessions(team_id, project);
