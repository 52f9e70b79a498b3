-- One database and one login role per service: a service's role owns its database and can connect to no
-- other, so "services never read each other's databases" (docs/architecture.md §2) holds in the server too.
-- The postgres image runs this once, when its data volume is first initialised. The passwords are for a
-- local stack only; production databases and credentials are provisioned by the operator.

CREATE ROLE intake LOGIN PASSWORD 'intake';
CREATE DATABASE intake OWNER intake ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE intake FROM PUBLIC;

CREATE ROLE revisit LOGIN PASSWORD 'revisit';
CREATE DATABASE revisit OWNER revisit ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE revisit FROM PUBLIC;

CREATE ROLE disclosure LOGIN PASSWORD 'disclosure';
CREATE DATABASE disclosure OWNER disclosure ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE disclosure FROM PUBLIC;

CREATE ROLE assessment LOGIN PASSWORD 'assessment';
CREATE DATABASE assessment OWNER assessment ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE assessment FROM PUBLIC;
