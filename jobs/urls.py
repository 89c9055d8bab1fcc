from django.urls import path, re_path

from jobs import api, views

api_patterns = [
    path("api/upload", api.upload, name="api-upload"),
    path("api/import-path", api.import_path, name="api-import-path"),
    path("api/jobs", api.jobs, name="api-jobs"),
    path("api/jobs/<int:job_id>", api.job_detail, name="api-job"),
    path("api/jobs/<int:job_id>/control", api.job_control, name="api-job-control"),
    path("api/jobs/<int:job_id>/files", api.job_files, name="api-job-files"),
    path("api/jobs/<int:job_id>/duplicates", api.job_duplicates, name="api-job-duplicates"),
    path("api/exports", api.exports, name="api-exports"),
    path("api/exports/preview", api.export_preview, name="api-export-preview"),
    path("api/jobs/<int:job_id>/manifest", api.job_manifest, name="api-job-manifest"),
    path("api/jobs/<int:job_id>/undo", api.job_undo, name="api-job-undo"),
    path("api/files/<int:file_id>/thumbnail", api.file_thumbnail, name="api-file-thumbnail"),
    path("api/files/<int:file_id>/content", api.file_content, name="api-file-content"),
    path("api/jobs/<int:job_id>/review", api.job_review, name="api-job-review"),
    path("api/review", api.library_review, name="api-review"),
    path("api/files/capture-time", api.capture_time, name="api-capture-time"),
    path("api/changes/<int:change_id>/undo", api.undo_change, name="api-undo-change"),
    # Anything else under /api/ answers a JSON 404, not the HTML page.
    re_path(r"^api/(?P<rest>.*)$", api.not_found),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("jobs/<int:job_id>/", views.home, name="job"),
    *api_patterns,
]
