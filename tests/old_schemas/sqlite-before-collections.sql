CREATE TABLE "api_key" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "name" VARCHAR(100) NOT NULL,
    "secret_sha256" VARCHAR(64) NOT NULL UNIQUE,
    "scopes" JSON NOT NULL,
    "origin" VARCHAR(10) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "last_used_at" TIMESTAMP,
    "revoked_at" TIMESTAMP
);
CREATE TABLE "audit_entry" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "key_id" CHAR(36),
    "key_name" VARCHAR(100) NOT NULL,
    "operation" VARCHAR(50) NOT NULL,
    "targets" JSON NOT NULL,
    "result" VARCHAR(30) NOT NULL,
    "detail" VARCHAR(200) NOT NULL
);
CREATE INDEX "idx_audit_entry_created_817289" ON "audit_entry" ("created_at");
CREATE TABLE "person" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "name" VARCHAR(200) NOT NULL,
    "external_id" VARCHAR(200) UNIQUE,
    "metadata" JSON,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL
);
CREATE TABLE "face" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "embedding" BLOB NOT NULL,
    "model" VARCHAR(100) NOT NULL,
    "box_x" INT NOT NULL,
    "box_y" INT NOT NULL,
    "box_width" INT NOT NULL,
    "box_height" INT NOT NULL,
    "detection_score" REAL,
    "detector" VARCHAR(20) NOT NULL,
    "inter_eye_px" REAL,
    "sharpness" REAL,
    "yaw_deg" REAL,
    "roll_deg" REAL,
    "crop_jpeg" BLOB NOT NULL,
    "image_sha256" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "person_id" CHAR(36) NOT NULL REFERENCES "person" ("id") ON DELETE CASCADE
);
CREATE INDEX "idx_face_person__cc3d6d" ON "face" ("person_id");
CREATE INDEX "idx_face_model_29065c" ON "face" ("model", "id");
CREATE INDEX face_image_sha256 ON face (image_sha256);
