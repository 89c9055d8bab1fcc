from django.urls import path, re_path

from jobs import api, views

api_patterns = [
    path("api/upload", api.upload, name="api-upload"),
    path("api/import-path", api.import_path, name="api-import-path"),
    path("api/jobs", api.jobs, name="api-jobs"),
    path("api/jobs/<int:job_id>", api.job, name="api-job"),
    path("api/jobs/<int:job_id>/control", api.control, name="api-job-control"),
    path("api/jobs/<int:job_id>/files", api.job_files, name="api-job-files"),
    path("api/jobs/<int:job_id>/duplicates", api.job_duplicates, name="api-job-duplicates"),
    path("api/files/<int:file_id>/thumbnail", api.file_thumbnail, name="api-file-thumbnail"),
    # Anything else under /api/ answers a JSON 404, not the HTML page.
    re_path(r"^api/(?P<rest>.*)$", api.not_found),
]

urlpatterns = [
    path("", views.home, name="home"),
    *api_patterns,
]
