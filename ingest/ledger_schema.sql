-- The ingest ledger's tables (state/ingest.duckdb): the one definition of what ingest
-- records and hands to dbt (ingest/export.py). Read by ingest/ledger.py.
create sequence if not exists file_id_seq start 1;
create table if not exists files (
    file_id bigint primary key,
    sha256 varchar not null,
    submitter_code varchar not null,
    file_name varchar not null,
    size_bytes bigint,
    received_at timestamp not null,
    report_kind varchar,
    status varchar not null,          -- accepted | accepted_with_warnings | rejected | duplicate
    duplicate_of bigint,
    row_count integer not null,
    error_count integer not null,
    warning_count integer not null,
    encoding varchar,
    sheet varchar,
    archive_path varchar not null
);
create table if not exists messages (
    file_id bigint not null, seq integer not null, severity varchar not null, code varchar not null,
    row_number integer, column_name varchar, value varchar, reason_zh varchar, reason_en varchar,
    line varchar  -- the message as the receipt prints it, Chinese first
);
-- what an accepted file stands for: (period) for a list (projects, registers,
-- evaluations), (period, indicator) for an indicator report, which supersedes
-- only the indicators it carries
create table if not exists file_periods (
    file_id bigint not null, submitter_code varchar not null, report_kind varchar not null,
    period varchar not null, superseded_by bigint, superseded_at timestamp,
    indicator varchar
);
-- the periods each recognised file's rows name, accepted or rejected, and how
-- many rows each (what was received, for marts.submission_status)
create table if not exists received_periods (
    file_id bigint not null, period varchar not null, row_count integer not null
);
-- value_wan: the figure in its unit (万元 for money; 万人, 平方公里, 个 for quantities)
create table if not exists indicator_values (
    file_id bigint not null, entity_type varchar not null, entity_code varchar not null,
    entity_name varchar, period varchar not null, indicator varchar not null, value_wan decimal(38, 10),
    original_value varchar, original_unit varchar, row_number integer,
    unit varchar
);
create table if not exists park_registry (
    file_id bigint not null, park_code varchar not null, park_name varchar not null,
    region_code varchar not null, park_level varchar, area_mu double, row_number integer
);
-- attributes_carried: the optional attribute columns the file had (an attribute
-- it did not carry keeps the project's earlier value; NULL: every one, files of
-- ledgers before the column)
create table if not exists project_progress (
    file_id bigint not null, period varchar not null, project_code varchar not null,
    project_name varchar, region_code varchar, park_code varchar, industry_chain varchar,
    nature varchar, stage varchar, total_investment decimal(38, 10), annual_plan decimal(38, 10),
    ytd_completed decimal(38, 10), start_date date, row_number integer,
    project_level varchar, programmes varchar, is_industrial boolean, attributes_carried varchar
);
create table if not exists park_evaluations (
    file_id bigint not null, period varchar not null, park_code varchar not null, category varchar not null,
    rank integer, stars integer, row_number integer
);

-- @migrations: a ledger written before contract v2, brought up to the tables above
-- (columns added at the end; ingest/ledger.py also makes money exact and spells out a
-- file's indicator periods per indicator)
alter table file_periods add column if not exists indicator varchar;
alter table indicator_values add column if not exists unit varchar;
alter table project_progress add column if not exists project_level varchar;
alter table project_progress add column if not exists programmes varchar;
alter table project_progress add column if not exists is_industrial boolean;
alter table project_progress add column if not exists attributes_carried varchar;
