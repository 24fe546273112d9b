"""`corpus serve`: an OpenAI-compatible server for a base model and its adapters.

``app.py`` builds the FastAPI app over one inference engine (``pipelines.train.inference``);
``schemas.py`` holds the request bodies; ``limits.py`` the size, token and concurrency limits
and the API-key check; ``run.py`` starts the built-in server (uvicorn) or builds the command
lines of vLLM and llama.cpp's server.
"""
