-- Memory history (REST v1 supersede, host/restapi): an observation that is
-- superseded keeps its row; it gets valid_to (epoch ms) and superseded_by
-- (the observation that replaced it). valid_from is when a version became
-- current; NULL means created_at_epoch. Current memories have valid_to
-- NULL; search and context packs read only those.
ALTER TABLE observations ADD COLUMN valid_from INTEGER;
ALTER TABLE observations ADD COLUMN valid_to INTEGER;
ALTER TABLE observations ADD COLUMN superseded_by INTEGER;

-- Superseded rows are few: search excludes them through this small index,
-- which keeps its covering indexes usable.
CREATE INDEX idx_observations_superseded ON observations(id) WHERE valid_to IS NOT NULL;
CREATE INDEX idx_observations_superseded_by ON observations(superseded_by) WHERE superseded_by IS NOT NULL;
