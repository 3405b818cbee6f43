"""The newsbot core: articles in, grounded answers with citations out.

Nothing here reads the environment or knows about Telegram or the command line; callers
pass plain values.
"""
