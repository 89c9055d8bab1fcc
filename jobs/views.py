from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from jobs import selectors


@login_required
def home(request):
    return render(request, "jobs/home.html", {"jobs": selectors.jobs_for(request.user)[:20]})
