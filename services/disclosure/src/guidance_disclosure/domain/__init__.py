"""disclosure's domain: the request for disclosure (依申请公开) and its deadlines."""
