"""The staff console: jobs, their files and the library's duplicate groups in Django's admin.

List pages make a fixed number of queries whatever their length: every column reads the row
itself, an annotation or a prefetch, never a query of its own."""

from django.contrib import admin

from jobs.admin import changes, duplicates, files, jobs  # noqa: F401  (each registers its ModelAdmin)

admin.site.site_header = "mediaimport console"
admin.site.site_title = "mediaimport"
admin.site.index_title = "Imports, files and duplicates"
